// The worked example of docs/testing-your-flows.md, verbatim (README.md's "Testing your flows" points there): if this
// file changes, paste it there again.
using O8Actors;
using O8Actors.TestKit;
using Xunit;
using Xunit.Abstractions;

public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task Each_login_ends_as_its_script_chose()
    {
        await using var o8 = await O8TestHarness.StartAsync();   // sandbox + orchestrator + scripted browser

        var tokens = await o8.AuthorizeAsync(LoginScript.Approve("alice"));
        var denied = await o8.RunAsync(LoginScript.Deny("Not today."));
        var broken = await o8.RunAsync(LoginScript.TokenEndpointFault());

        Assert.True(o8.Sandbox.IsActive(tokens.AccessToken));
        Assert.Equal("access_denied", Assert.IsType<LoginDenied>(denied.Outcome).Error);
        Assert.Contains("HTTP 503", Assert.IsType<LoginFailed>(broken.Outcome).Reason);
    }
}

public sealed class ReadmeTestKitExampleTests(ITestOutputHelper output)
    : O8FlowsTestKit(new O8TestHarnessOptions { VirtualTime = true }, output)
{
    [Fact]
    public async Task An_abandoned_login_times_out_without_waiting()
    {
        var login = O8.RunAsync(LoginScript.Abandon, timeout: TimeSpan.FromMinutes(2));
        await LoginEvents.FishForMessageAsync<BrowserLaunchedEvent>(_ => true, TimeSpan.FromSeconds(20));

        O8.Scheduler.Advance(TimeSpan.FromMinutes(2));

        Assert.IsType<LoginTimedOut>((await login).Outcome);
        await LoginEvents.FishForMessageAsync<LoginEndedEvent>(e => e.Outcome == LoginOutcomeKind.TimedOut, TimeSpan.FromSeconds(20));
    }
}
