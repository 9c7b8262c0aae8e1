using O8Actors.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// What the harness foretells and how long it lets a login run follow the orchestrator it runs: the exchange timeout
/// that <see cref="O8TestHarnessOptions.ConfigureLogins"/> (the last word) sets, and a human's time for a consent login
/// in a real browser.
/// </summary>
public sealed class HarnessSettingsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A delay between the exchange timeout set through ConfigureLogins and the harness's own: the login fails by the
    /// orchestrator's, and the harness foretold success by its own option (MatchesScript false).
    /// </summary>
    [Fact]
    public async Task A_token_delay_is_foretold_by_the_exchange_timeout_the_orchestrator_runs_with()
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
            o.ConfigureLogins = setup => setup.Options.Login.ExchangeTimeout = TimeSpan.FromSeconds(2));

        var result = await o8.RunAsync(LoginScript.TokenEndpointFault(TokenFault.Delay(TimeSpan.FromSeconds(4)))).WaitAsync(Wait);

        Assert.Equal(LoginOutcomeKind.Failed, result.Outcome.Kind);
        Assert.Equal(LoginOutcomeKind.Failed, result.Expected);
        Assert.True(result.MatchesScript);
    }

    /// <summary>A consent login in a real browser waits for a human, not the two seconds of a login nobody finishes.</summary>
    [Fact]
    public async Task A_consent_login_in_a_browser_of_the_apps_own_gets_the_login_timeout()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.Browser = new OpensNothing());
        await using var scripted = await O8TestHarness.StartAsync();

        Assert.Equal(o8.Options.LoginTimeout, o8.Request(LoginScript.Consent).Timeout);
        // With the scripted browser nobody is there to decide: the short timeout.
        Assert.Equal(scripted.Options.AbandonTimeout, scripted.Request(LoginScript.Consent).Timeout);
    }

    private sealed class OpensNothing : IBrowserLauncher
    {
        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
            Task.FromResult(BrowserLaunchResult.Opened("test"));
    }
}
