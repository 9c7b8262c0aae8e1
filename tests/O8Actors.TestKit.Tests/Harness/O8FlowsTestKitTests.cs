using Xunit.Abstractions;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>The Akka.TestKit base class: a started harness per test and a probe on the orchestrator's flow events.</summary>
public sealed class O8FlowsTestKitTests(ITestOutputHelper output) : O8FlowsTestKit(output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_probe_sees_one_login_from_start_to_end_in_order()
    {
        var login = await O8.RunAsync(LoginScript.Approve("bob"));
        var id = login.Outcome.LoginId;

        var seen = new List<LoginEvent>();
        await LoginEvents.FishForMessageAsync<LoginEvent>(e =>
        {
            if (e.LoginId == id) seen.Add(e);
            return e is LoginEndedEvent ended && ended.LoginId == id;
        }, Wait);

        Assert.Collection(seen,
            e => Assert.IsType<LoginStartedEvent>(e),
            e => Assert.IsType<AuthorizeUrlReadyEvent>(e),
            e => Assert.True(Assert.IsType<BrowserLaunchedEvent>(e).Launched),
            e => Assert.True(Assert.IsType<CallbackReceivedEvent>(e).HasCode),
            e => Assert.IsType<TokensExchangedEvent>(e),
            e => Assert.Equal(LoginOutcomeKind.Succeeded, Assert.IsType<LoginEndedEvent>(e).Outcome));
        Assert.Same(O8.System, LoginEvents.Sys);
    }

    [Fact]
    public async Task The_recorder_and_the_probe_agree_on_a_denied_login()
    {
        var login = await O8.RunAsync(LoginScript.Deny());

        var fromProbe = await LoginEvents.FishForMessageAsync<LoginEndedEvent>(e => e.LoginId == login.Outcome.LoginId, Wait);
        var fromRecorder = await O8.Events.WaitForEndAsync(login.Outcome.LoginId);

        Assert.Equal(LoginOutcomeKind.Denied, fromProbe.Outcome);
        Assert.Equal(fromProbe, fromRecorder);
        Assert.Equal(1, O8.Events.CountEnded(LoginOutcomeKind.Denied));
    }

    [Fact]
    public async Task The_recorder_reports_what_it_saw_when_an_event_never_comes()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => O8.Events.WaitForEndAsync("no-such-login", TimeSpan.FromMilliseconds(50)));

        Assert.Contains("LoginEndedEvent", error.Message);
    }
}
