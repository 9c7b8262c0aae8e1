using System.Diagnostics;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using O8Actors.Tests.Flows;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Runtime;

/// <summary>
/// <see cref="TimerQueueScheduler"/>, the scheduler of O8Actors' own actor system: timers fire after their delay, a
/// cancelled one neither fires nor holds what it would have sent, a repeating one runs until cancelled, a failing action
/// stops nothing else, and nothing runs once the system has ended. Real time (it is a real-time scheduler): the delays are
/// short and every wait is a TestKit wait.
/// </summary>
public sealed class TimerQueueSchedulerTests() : TestKit(SchedulerConfig)
{
    private static readonly string SchedulerConfig = $"akka.scheduler.implementation = \"{TimerQueueScheduler.ConfigName}\"";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public void The_actor_system_runs_on_it_when_its_settings_name_it()
    {
        Assert.IsType<TimerQueueScheduler>(Sys.Scheduler);
    }

    [Fact]
    public void A_timer_tells_its_message_after_its_delay_and_not_before()
    {
        // Timed from before the call, so a stalled test thread can only make the wait look longer, never shorter.
        var clock = Stopwatch.StartNew();
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(400), TestActor, "due", ActorRefs.NoSender);

        ExpectMsg("due", Wait);
        Assert.True(clock.Elapsed >= NotBefore(400), $"told after {clock.Elapsed.TotalMilliseconds:0} ms");
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_delay_longer_than_the_runtimes_longest_timer_is_accepted_and_can_be_cancelled()
    {
        // A runtime Timer takes at most about 49.7 days, and Akka's wheel takes longer delays: an app's actor may ask for one.
        var cancelable = Sys.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromDays(60), TestActor, "in sixty days", ActorRefs.NoSender);

        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        cancelable.Cancel();
        Assert.True(cancelable.IsCancellationRequested);
    }

    [Fact]
    public void A_wait_longer_than_one_timer_step_is_waited_out_in_steps_and_fires_at_its_end()
    {
        // The same stepping with a step of 50 ms instead of 49.7 days: the timer fires at 50, 100 and 150 ms and only
        // tells at 400.
        using var scheduler = new TimerQueueScheduler(Sys.Settings.Config, Sys.Log, longestStep: TimeSpan.FromMilliseconds(50));
        var clock = Stopwatch.StartNew();
        ((IScheduler)scheduler).ScheduleTellOnce(TimeSpan.FromMilliseconds(400), TestActor, "at the end", ActorRefs.NoSender);

        ExpectMsg("at the end", Wait);
        Assert.True(clock.Elapsed >= NotBefore(400), $"told after {clock.Elapsed.TotalMilliseconds:0} ms");
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_cancelled_timer_never_fires_and_lets_go_of_its_message_at_once()
    {
        // Akka's wheel keeps a cancelled timer, and what it would have sent, until its hand passes the slot: for a login's
        // deadline that is the ended login's whole actor cell. Here the message is collectable as soon as Cancel returns.
        var (cancelable, message) = ScheduleUnreachableMessage(TimeSpan.FromSeconds(3));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // long enough for any scheduler to have filed the timer away

        cancelable.Cancel();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(message.TryGetTarget(out _), "the cancelled timer still holds its message");
        ExpectNoMsg(TimeSpan.FromMilliseconds(3300)); // past the timer's due time
    }

    [Fact]
    public void A_repeating_timer_tells_again_and_again_until_cancelled()
    {
        // The receiver counts each tell as the scheduler makes it, not as a mailbox is read, so a stalled test thread
        // cannot take ticks told before the cancel for ticks after it.
        var receiver = new CountingReceiver();
        var cancelable = new Cancelable(Sys.Scheduler);
        Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50), receiver, "tick", ActorRefs.NoSender, cancelable);

        AwaitCondition(() => receiver.Tells >= 3, Wait, Polling.Interval);
        cancelable.Cancel();
        var atCancel = receiver.Tells;

        // A run already under way when Cancel was called may still tell once; after that, none in six intervals.
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.InRange(receiver.Tells, atCancel, atCancel + 1);
    }

    [Fact]
    public void A_repeating_action_that_throws_is_not_run_again_and_stops_no_other_timer()
    {
        var runs = 0;
        Sys.Scheduler.Advanced.ScheduleRepeatedly(TimeSpan.Zero, TimeSpan.FromMilliseconds(30), () =>
        {
            Interlocked.Increment(ref runs);
            throw new InvalidOperationException("scheduled work that fails");
        });
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(50), TestActor, "still on time", ActorRefs.NoSender);

        ExpectMsg("still on time", Wait);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // several of its intervals
        Assert.Equal(1, Volatile.Read(ref runs));
    }

    [Fact]
    public void A_timer_does_not_carry_the_async_locals_of_the_code_that_scheduled_it()
    {
        // A callback's HTTP request or activity, captured by the timer, would live as long as the timer and leak into the
        // action: the scheduled work runs in the scheduler's context, not the caller's.
        var scope = new AsyncLocal<string?> { Value = "the scheduling request's" };
        Sys.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(20), () => TestActor.Tell(scope.Value ?? "nothing"));

        ExpectMsg("nothing", Wait);
    }

    [Fact]
    public async Task Once_its_actor_system_has_ended_no_waiting_timer_runs_and_nothing_more_can_be_scheduled()
    {
        var system = ActorSystem.Create("ending", ConfigurationFactory.ParseString(SchedulerConfig + "\nakka.loglevel = OFF"));
        var ran = 0;
        // Due well after the system's end, however long a loaded machine takes to terminate it (it ran at 300 ms before,
        // which a slow Terminate could outlast, the timer then rightly running).
        var due = TimeSpan.FromSeconds(3);
        var scheduled = System.Diagnostics.Stopwatch.StartNew();
        system.Scheduler.Advanced.ScheduleOnce(due, () => Interlocked.Increment(ref ran));

        await system.Terminate().WaitAsync(Wait);
        Assert.True(scheduled.Elapsed < due, $"the system took {scheduled.Elapsed} to terminate, past the timer's due time");

        ExpectNoMsg(due - scheduled.Elapsed + TimeSpan.FromMilliseconds(300)); // past the timer's due time
        Assert.Equal(0, Volatile.Read(ref ran));
        Assert.Throws<SchedulerException>(() => system.Scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, () => Interlocked.Increment(ref ran)));
    }

    [Fact]
    public async Task OAuthLogins_own_system_runs_on_it_unless_the_apps_settings_name_another()
    {
        await using (var ours = await OAuthLogins.StartAsync(setup => Standalone(setup, null)))
            Assert.IsType<TimerQueueScheduler>(ours.System.Scheduler);

        await using var theApps = await OAuthLogins.StartAsync(setup =>
            Standalone(setup, "akka.scheduler.implementation = \"Akka.Actor.HashedWheelTimerScheduler, Akka\""));
        Assert.IsType<HashedWheelTimerScheduler>(theApps.System.Scheduler);
    }

    private static void Standalone(OAuthLoginsSetup setup, string? hocon)
    {
        setup.Options.Listener.Scheme = "http";
        setup.Options.Listener.Port = 0;
        setup.Browser = new RecordingBrowser();
        if (hocon is not null) setup.Hocon = ConfigurationFactory.ParseString(hocon);
    }

    // Not inlined, so no local of this frame keeps the message alive while the test checks that the scheduler does not.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private (ICancelable Cancelable, WeakReference<object> Message) ScheduleUnreachableMessage(TimeSpan delay)
    {
        var message = new object();
        var cancelable = Sys.Scheduler.ScheduleTellOnceCancelable(delay, TestActor, message, ActorRefs.NoSender);
        return (cancelable, new WeakReference<object>(message));
    }

    /// <summary>A due time in milliseconds, less a little for the rounding of the runtime timer underneath.</summary>
    private static TimeSpan NotBefore(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds - 15);

    private sealed class CountingReceiver : ICanTell
    {
        private int _tells;

        public int Tells => Volatile.Read(ref _tells);

        public void Tell(object message, IActorRef sender) => Interlocked.Increment(ref _tells);
    }
}
