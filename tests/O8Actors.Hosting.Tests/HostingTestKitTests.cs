using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// O8Actors wired through Akka.Hosting.TestKit: <c>ConfigureServices</c> calls AddOAuthLogins with settings from an
/// in-memory IConfiguration, <c>ConfigureAkka</c> calls WithOAuthLogins; the TestKit starts the host before each test.
/// </summary>
public sealed class HostingTestKitTests : Akka.Hosting.TestKit.TestKit, IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan ConfiguredTimeout = TimeSpan.FromSeconds(2);
    private readonly SandboxFixture _sandbox;
    private readonly string _clientId = "testkit-" + Guid.NewGuid().ToString("N");
    private readonly ScriptedBrowser _browser = new();

    /// <summary>The sandbox is shared by the class; each test gets its own host, actor system and client.</summary>
    public HostingTestKitTests(SandboxFixture sandbox, ITestOutputHelper output)
        : base("o8-hosting-testkit", output)
    {
        _sandbox = sandbox;
    }

    private IOAuthLogins Logins => Host.Services.GetRequiredService<IOAuthLogins>();

    /// <inheritdoc />
    protected override void ConfigureAppConfiguration(HostBuilderContext context, IConfigurationBuilder builder)
    {
        var settings = HostedO8.SandboxSettings(_sandbox, _clientId);
        settings["O8:Login:Timeout"] = ConfiguredTimeout.ToString("c");
        builder.AddInMemoryCollection(settings);
    }

    /// <inheritdoc />
    protected override void ConfigureServices(HostBuilderContext context, IServiceCollection services) =>
        services.AddOAuthLogins(o => o.Browser = _ => _browser);

    /// <inheritdoc />
    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider) =>
        builder.WithOAuthLogins();

    /// <inheritdoc />
    protected override async Task AfterAllAsync()
    {
        await base.AfterAllAsync();
        await _browser.DisposeAsync();
    }

    [Fact]
    public async Task Host_starts_with_the_options_from_configuration()
    {
        Assert.NotNull(Host);
        var lifetime = Host.Services.GetRequiredService<IHostApplicationLifetime>();
        Assert.True(lifetime.ApplicationStarted.IsCancellationRequested);

        var options = Host.Services.GetRequiredService<IOptions<O8Options>>().Value;
        Assert.Equal(ConfiguredTimeout, options.Login.Timeout);

        var redirect = await Logins.GetRedirectUriAsync(TestContext.Current.CancellationToken);
        Assert.Equal("http", redirect.Scheme);
        Assert.NotEqual(41539, redirect.Port); // port 0 from configuration, not the HOCON default
    }

    [Fact]
    public async Task Login_times_out_after_the_configured_flow_timeout()
    {
        var redirect = await Logins.GetRedirectUriAsync("sandbox", TestContext.Current.CancellationToken);
        _sandbox.Server.RegisterClient(_clientId, null, [redirect.ToString()], ClientAuthMethod.None);

        var outcome = await Logins.RunAsync("sandbox", SandboxFixture.Hint("hang-testkit"), TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var timedOut = Assert.IsType<LoginTimedOut>(outcome);
        Assert.Equal(ConfiguredTimeout, timedOut.Timeout);
    }

    [Fact]
    public async Task Callback_server_resolves_from_the_registry_and_reports_bound()
    {
        var required = await Host.Services.GetRequiredService<IRequiredActor<CallbackServerKey>>()
            .GetAsync(TestContext.Current.CancellationToken);
        var listener = ActorRegistry.Get<CallbackServerKey>();
        Assert.Equal(listener, required);

        listener.Tell(GetListenerStatus.Instance, TestActor);
        var status = await ExpectMsgAsync<ListenerStatus>(TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(status.Bound);
        Assert.Equal(await Logins.GetRedirectUriAsync(TestContext.Current.CancellationToken), status.RedirectUri);
    }
}
