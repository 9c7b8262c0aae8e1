using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Runtime;
using O8Actors.Tests.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Flows;

/// <summary>
/// Logins whose provider actor is stopped (its registry gave up on it after repeated failures) end at once as
/// <see cref="LoginFailure.ProviderUnavailable"/> naming the provider, not at their deadline minutes later. The real
/// actors of one O8Actors system (registry, flows, listener on a free loopback port, the dead letters' watcher).
/// </summary>
public sealed class StoppedProviderLoginTests : TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    // The logins' deadline is five minutes: an outcome within this is the provider's stop, not the deadline.
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(5);

    private readonly FailingClients _clients = new();
    private O8ActorRefs _actors = null!;
    private Uri _redirectUri = null!;

    public StoppedProviderLoginTests() : base(O8Config.Default)
    {
    }

    public async Task InitializeAsync()
    {
        (_actors, _redirectUri) = await LoopbackActors.StartAsync(Sys,
            new LoginOptions { Timeout = TimeSpan.FromMinutes(5), ExchangeTimeout = TimeSpan.FromSeconds(5) }, _clients);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Logins_started_as_their_provider_is_stopped_and_those_started_after_fail_at_once_naming_it()
    {
        await _actors.Providers.Ask<ProviderRegistered>(new RegisterProvider(new ScriptedStrategy("p")), Wait);
        var provider = await Sys.ActorSelection(_actors.Providers.Path / "*").ResolveOne(Wait);
        Watch(provider);
        // Ten failures within a minute: restarts, each answering the request it failed on.
        for (var i = 1; i <= 10; i++)
        {
            var restart = await _actors.Providers.Ask<ProviderUnavailable>(
                new PrepareAuthorization("p", $"restart-{i}", "state", null, _redirectUri, [], new Dictionary<string, string>()), Wait);
            Assert.Contains("internal error", restart.Reason);
        }

        // The eleventh failure (one login's discovery) stops the actor; the other logins, started with it, are in its
        // suspended mailbox by then, or reach it, or the registry, after it stopped.
        var started = new[] { StartLogin("first"), StartLogin("second"), StartLogin("third") };
        ExpectTerminated(provider, Wait);
        var later = StartLogin("later");

        foreach (var login in started.Append(later))
        {
            var failed = Assert.IsType<LoginFailed>(await login.WaitAsync(Answer));
            Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
            Assert.Contains("'p'", failed.Reason);
            Assert.Contains("stopped", failed.Reason);
        }
    }

    private Task<LoginOutcome> StartLogin(string loginId)
    {
        var completion = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _actors.Flows.Tell(new StartFlow(loginId, "p", AuthorizationRequest.Default, completion));
        return completion.Task;
    }
}
