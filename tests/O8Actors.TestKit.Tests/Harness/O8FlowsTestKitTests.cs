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
        var id = login.Outcome.FlowId;

        var seen = new List<FlowEvent>();
        await FlowEvents.FishForMessageAsync<FlowEvent>(e =>
        {
            if (e.FlowId == id) seen.Add(e);
            return e is FlowEndedEvent ended && ended.FlowId == id;
        }, Wait);

        Assert.Collection(seen,
            e => Assert.IsType<FlowStartedEvent>(e),
            e => Assert.IsType<AuthorizeUrlReadyEvent>(e),
            e => Assert.True(Assert.IsType<BrowserLaunchedEvent>(e).Launched),
            e => Assert.True(Assert.IsType<CallbackReceivedEvent>(e).HasCode),
            e => Assert.IsType<TokensExchangedEvent>(e),
            e => Assert.Equal(FlowOutcomeKind.Succeeded, Assert.IsType<FlowEndedEvent>(e).Outcome));
        Assert.Same(O8.System, FlowEvents.Sys);
    }

    [Fact]
    public async Task The_recorder_and_the_probe_agree_on_a_denied_login()
    {
        var login = await O8.RunAsync(LoginScript.Deny());

        var fromProbe = await FlowEvents.FishForMessageAsync<FlowEndedEvent>(e => e.FlowId == login.Outcome.FlowId, Wait);
        var fromRecorder = await O8.Events.WaitForEndAsync(login.Outcome.FlowId);

        Assert.Equal(FlowOutcomeKind.Denied, fromProbe.Outcome);
        Assert.Equal(fromProbe, fromRecorder);
        Assert.Equal(1, O8.Events.CountEnded(FlowOutcomeKind.Denied));
    }

    [Fact]
    public async Task The_recorder_reports_what_it_saw_when_an_event_never_comes()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => O8.Events.WaitForEndAsync("no-such-login", TimeSpan.FromMilliseconds(50)));

        Assert.Contains("FlowEndedEvent", error.Message);
    }
}
