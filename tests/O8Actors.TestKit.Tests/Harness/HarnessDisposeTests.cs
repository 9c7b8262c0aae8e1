using Microsoft.Extensions.DependencyInjection;
using O8Actors.TestKit.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// A part of the harness that throws when released (here the orchestrator, through an HTTP client factory whose
/// disposal fails) does not keep the parts after it, such as the sandbox, from being released.
/// </summary>
public sealed class HarnessDisposeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_sandbox_is_stopped_even_when_the_orchestrator_fails_to_release()
    {
        var o8 = await O8TestHarness.StartAsync(o => o.ConfigureLogins = setup =>
            setup.ConfigureServices = services => services.AddSingleton<IHttpClientFactory>(_ => new FailsToDisposeHttpClientFactory()));
        var authorize = o8.Sandbox.AuthorizationEndpoint;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => o8.DisposeAsync().AsTask().WaitAsync(Wait));

        Assert.Equal(FailsToDisposeHttpClientFactory.Message, failure.Message);
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(authorize).WaitAsync(Wait));
    }

    /// <summary>
    /// A login that the harness's disposal cancels ends in its recorder too, as the disposal's doc says it ends. The
    /// recorder was let go before the orchestrator, and the end went to a stopped subscriber: a test of "shutdown cancels
    /// the logins in flight" found no end recorded.
    /// </summary>
    [Fact]
    public async Task The_end_of_a_login_the_disposal_cancels_is_recorded()
    {
        var o8 = await O8TestHarness.StartAsync();
        var run = o8.Logins.RunAsync(o8.ProviderName, o8.Request(LoginScript.NeverAnswer, TimeSpan.FromMinutes(5)));
        await Eventually.TrueAsync(() => o8.Events.Events.OfType<BrowserLaunchedEvent>().Any(), "the login opened its browser", Wait);

        await o8.DisposeAsync().AsTask().WaitAsync(Wait);

        var outcome = Assert.IsType<LoginCancelled>(await run.WaitAsync(Wait));
        var ended = Assert.Single(o8.Events.Ended);
        Assert.Equal((outcome.LoginId, LoginOutcomeKind.Cancelled), (ended.LoginId, ended.Outcome));
    }

    /// <summary>
    /// Virtual time with HOCON of the test's own (an o8 block set in ConfigureLogins): the test's HOCON replaced the
    /// scheduler line, and the orchestrator ran on real time while VirtualTime said otherwise.
    /// </summary>
    [Fact]
    public async Task Virtual_time_holds_when_the_tests_own_configuration_sets_HOCON()
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.VirtualTime = true;
            o.ConfigureLogins = setup => setup.Hocon = Akka.Configuration.ConfigurationFactory.ParseString("o8.login.max-pending = 500");
        });

        Assert.IsType<Akka.TestKit.TestScheduler>(o8.System.Scheduler);
        Assert.Equal(500, o8.Logins.Options.Login.MaxPending);
    }
}
