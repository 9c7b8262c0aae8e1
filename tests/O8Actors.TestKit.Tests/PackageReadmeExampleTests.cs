// The example of src/O8Actors.TestKit.Xunit2/README.md (shipped in its package), verbatim: if this file changes, paste
// it there again (ReadmeExampleSyncTests checks).
using O8Actors;
using O8Actors.TestKit;
using Xunit;
using Xunit.Abstractions;

public sealed class MyFlowTests(ITestOutputHelper output)
    : O8FlowsTestKit(new O8TestHarnessOptions { VirtualTime = true }, output)
{
    [Fact]
    public async Task An_abandoned_login_times_out()
    {
        var login = O8.RunAsync(LoginScript.Abandon, timeout: TimeSpan.FromMinutes(2));
        await LoginEvents.FishForMessageAsync<BrowserLaunchedEvent>(_ => true);
        O8.Scheduler.Advance(TimeSpan.FromMinutes(2));
        Assert.IsType<LoginTimedOut>((await login).Outcome);
    }
}
