using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Runtime;
using O8Actors.Tests.Flows;
using O8Actors.Tests.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Runtime;

/// <summary>The O8 guardian's supervision, one decision per child, with the real listener on a free loopback port.</summary>
public sealed class O8GuardianTests : TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private readonly ServiceProvider _services = new ServiceCollection().AddO8HttpClient(TimeSpan.FromSeconds(5)).BuildServiceProvider();
    private O8ActorRefs _actors = null!;
    private Uri _redirectUri = null!;

    public O8GuardianTests() : base(O8Config.Default)
    {
    }

    public async Task InitializeAsync()
    {
        (_actors, _redirectUri) = await LoopbackActors.StartAsync(Sys,
            new LoginOptions { Timeout = TimeSpan.FromSeconds(60), ExchangeTimeout = TimeSpan.FromSeconds(5) }, _services.GetRequiredService<IHttpClientFactory>());
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task The_actors_live_under_the_o8_guardian_at_the_published_paths()
    {
        Assert.Equal(O8Bootstrap.ListenerPath, _actors.Listener.Path.ToStringWithoutAddress());
        Assert.Equal(O8Bootstrap.FlowsPath, _actors.Flows.Path.ToStringWithoutAddress());
        var identity = await Sys.ActorSelection(O8Bootstrap.FlowsPath).Ask<ActorIdentity>(new Identify(1), Wait);
        Assert.Equal(_actors.Flows, identity.Subject);
    }

    [Fact]
    public async Task A_listener_that_throws_is_stopped_and_releases_its_port_instead_of_restarting_and_logins_fail_fast()
    {
        await _actors.Providers.Ask<ProviderRegistered>(new RegisterProvider(new ScriptedStrategy("p")), Wait);
        var waiting = StartLogin("waiting");
        await AwaitAssertAsync(async () =>
            Assert.Equal(1, (await _actors.Listener.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait)).RegisteredStates), Wait);
        Watch(_actors.Listener);

        // A bug in the listener: a callback without a state reaches the table (the Kestrel handler never sends one).
        _actors.Listener.Tell(new CallbackReceived(null!, "code", null, null, null));

        await ExpectTerminatedAsync(_actors.Listener, Wait);
        await AwaitAssertAsync(() =>
        {
            using var rebind = new TcpListener(IPAddress.Loopback, _redirectUri.Port);
            rebind.Start(); // throws while the port is held: a restarted listener would have bound it again
            rebind.Stop();
        }, Wait);

        var lost = Assert.IsType<LoginFailed>(await waiting.WaitAsync(Wait));
        Assert.Equal(LoginFailure.ListenerUnavailable, lost.Failure);
        var late = Assert.IsType<LoginFailed>(await StartLogin("late").WaitAsync(Wait));
        Assert.Equal(LoginFailure.ListenerUnavailable, late.Failure);
    }

    [Fact]
    public async Task The_provider_registry_keeps_its_providers_when_a_registration_throws()
    {
        await _actors.Providers.Ask<ProviderRegistered>(new RegisterProvider(new ScriptedStrategy("p")), Wait);

        _actors.Providers.Tell(new RegisterProvider(new NameThrows()));
        _actors.Providers.Tell(new PrepareAuthorization("p", "after", "state", null, _redirectUri, [], new Dictionary<string, string>()));

        Assert.Equal("after", ExpectMsg<AuthorizationPrepared>(Wait).LoginId);
    }

    private Task<LoginOutcome> StartLogin(string loginId)
    {
        var completion = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _actors.Flows.Tell(new StartFlow(loginId, "p", AuthorizationRequest.Default, completion));
        return completion.Task;
    }

    /// <summary>A user's strategy with a bug in its Name.</summary>
    private sealed class NameThrows : ProviderStrategy
    {
        public override string Name => throw new InvalidOperationException("bug in a user's strategy");
        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => throw new NotSupportedException();
        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
