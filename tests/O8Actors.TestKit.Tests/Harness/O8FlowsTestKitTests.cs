using Akka.Actor;
#if !XUNIT_V3
using Xunit.Abstractions;
#endif

namespace O8Actors.TestKit.Tests.Harness;

// One source for both xUnit packages: compiled here against O8Actors.TestKit.Xunit2 and, with XUNIT_V3, in
// O8Actors.TestKit.Xunit.Tests against O8Actors.TestKit.Xunit.

/// <summary>The Akka.TestKit base class: a started harness per test, in the test kit's own actor system.</summary>
public sealed class O8FlowsTestKitTests(ITestOutputHelper output) : O8FlowsTestKit(output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_probe_sees_one_login_from_start_to_end_in_order()
    {
        var login = await O8.RunAsync(LoginScript.Approve("bob"), cancellationToken: TestRun.Token);
        var id = login.Outcome.LoginId;

        var seen = new List<LoginEvent>();
        await LoginEvents.FishForMessageAsync<LoginEvent>(e =>
        {
            if (e.LoginId == id) seen.Add(e);
            return e is LoginEndedEvent ended && ended.LoginId == id;
        }, Wait, cancellationToken: TestRun.Token);

        Assert.Collection(seen,
            e => Assert.IsType<LoginStartedEvent>(e),
            e => Assert.IsType<AuthorizeUrlReadyEvent>(e),
            e => Assert.True(Assert.IsType<BrowserLaunchedEvent>(e).Launched),
            e => Assert.True(Assert.IsType<CallbackReceivedEvent>(e).HasCode),
            e => Assert.IsType<TokensExchangedEvent>(e),
            e => Assert.Equal(LoginOutcomeKind.Succeeded, Assert.IsType<LoginEndedEvent>(e).Outcome));
        Assert.Same(Sys, LoginEvents.Sys);
    }

    [Fact]
    public async Task Probes_and_the_test_actor_of_the_test_kit_see_the_logins_of_its_own_system()
    {
        Assert.Same(Sys, O8.System);
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(LoginEvent));
        Sys.EventStream.Subscribe(TestActor, typeof(LoginEndedEvent));

        var login = await O8.RunAsync(LoginScript.Approve("carol"), cancellationToken: TestRun.Token);

        var fromProbe = await probe.FishForMessageAsync<LoginEndedEvent>(e => e.LoginId == login.Outcome.LoginId, Wait, cancellationToken: TestRun.Token);
        var fromTestActor = await FishForMessageAsync<LoginEndedEvent>(e => e.LoginId == login.Outcome.LoginId, Wait, cancellationToken: TestRun.Token);
        Assert.Equal(LoginOutcomeKind.Succeeded, fromProbe.Outcome);
        Assert.Equal(fromProbe, fromTestActor);
    }

    [Fact]
    public async Task The_recorder_and_the_probe_agree_on_a_denied_login()
    {
        var login = await O8.RunAsync(LoginScript.Deny(), cancellationToken: TestRun.Token);

        var fromProbe = await LoginEvents.FishForMessageAsync<LoginEndedEvent>(e => e.LoginId == login.Outcome.LoginId, Wait, cancellationToken: TestRun.Token);
        var fromRecorder = await O8.Events.WaitForEndAsync(login.Outcome.LoginId, cancellationToken: TestRun.Token);

        Assert.Equal(LoginOutcomeKind.Denied, fromProbe.Outcome);
        Assert.Equal(fromProbe, fromRecorder);
        Assert.Equal(1, O8.Events.CountEnded(LoginOutcomeKind.Denied));
    }

    [Fact]
    public async Task A_stopped_harness_leaves_the_system_running_with_room_for_another()
    {
        await O8.DisposeAsync();

        // O8Actors stopped its own actors (their names are free) and left the test kit's system to the test kit.
        await using var second = await O8TestHarness.StartAsync(Sys, cancellationToken: TestRun.Token);
        var login = await second.RunAsync(LoginScript.Approve("dave"), cancellationToken: TestRun.Token);

        Assert.IsType<LoginSucceeded>(login.Outcome);
        Assert.Same(Sys, second.System);
        Assert.False(Sys.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task A_system_on_real_time_is_refused_for_virtual_time()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => O8TestHarness.StartAsync(Sys, new O8TestHarnessOptions { VirtualTime = true }, TestRun.Token));

        Assert.Contains("ActorSystemConfig", error.Message);
        Assert.IsNotType<Akka.TestKit.TestScheduler>(Sys.Scheduler);
    }

    [Fact]
    public async Task The_recorder_reports_what_it_saw_when_an_event_never_comes()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => O8.Events.WaitForEndAsync("no-such-login", TimeSpan.FromMilliseconds(50), TestRun.Token));

        Assert.Contains("LoginEndedEvent", error.Message);
    }
}

/// <summary>Virtual time chosen in the constructor: the test kit's system runs on the TestScheduler the harness advances.</summary>
public sealed class O8FlowsTestKitVirtualTimeTests(ITestOutputHelper output)
    : O8FlowsTestKit(new O8TestHarnessOptions { VirtualTime = true }, output)
{
    [Fact]
    public async Task The_test_kits_scheduler_fires_the_login_deadline()
    {
        Assert.Same(Sys.Scheduler, O8.Scheduler);
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(LoginEndedEvent));

        var login = O8.RunAsync(LoginScript.Abandon, timeout: TimeSpan.FromMinutes(5), cancellationToken: TestRun.Token);
        await LoginEvents.FishForMessageAsync<BrowserLaunchedEvent>(_ => true, TimeSpan.FromSeconds(20), cancellationToken: TestRun.Token);
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200), TestRun.Token);

        O8.Scheduler.Advance(TimeSpan.FromMinutes(5));

        Assert.IsType<LoginTimedOut>((await login).Outcome);
        var ended = await probe.ExpectMsgAsync<LoginEndedEvent>(TimeSpan.FromSeconds(20), cancellationToken: TestRun.Token);
        Assert.Equal(LoginOutcomeKind.TimedOut, ended.Outcome);
    }
}
