using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace O8Actors;

/// <summary>
/// An Akka scheduler on the runtime's own timer queue (<see cref="Timer"/>): it wakes only when a timer is due, and a
/// cancelled timer leaves the queue at once. O8Actors' own actor system (<see cref="OAuthLogins.StartAsync"/>) runs on
/// it unless the app's HOCON names another <c>akka.scheduler.implementation</c>; an app that hosts O8Actors in its own
/// actor system may choose it there with
/// <c>akka.scheduler.implementation = "O8Actors.TimerQueueScheduler, O8Actors"</c>.
/// </summary>
/// <remarks>
/// Why not Akka's default (<see cref="HashedWheelTimerScheduler"/>): its wheel ticks every
/// <c>akka.scheduler.tick-duration</c> (10 ms) for as long as the system runs, whether or not anything is due, and each
/// tick wakes a thread-pool worker that spins before it sleeps: an idle process that keeps <see cref="OAuthLogins"/>
/// running spent 4-5% of a CPU on that alone (docs/benchmarks.md, "An idle O8Actors process"). And the wheel keeps a
/// cancelled timer until its hand passes the timer's slot, up to a turn later, holding the actor that set it: every
/// login cancels its deadline, so a server ending thousands of logins a second kept hundreds of ended logins' actor
/// cells reachable, which the garbage collector then copied into its older generations.
/// <para>
/// Timers fire on the thread pool, at the runtime timer's precision (about a millisecond, not a 10 ms slot). A
/// repeating timer runs its action again only after the previous run returned (fixed delay from each run, as Akka's
/// wheel does), and not again once it has thrown. When the actor system ends (<see cref="Dispose"/>) every timer still
/// waiting is dropped without running (Akka's wheel runs them then; O8Actors schedules nothing that must run at the end).
/// </para>
/// </remarks>
public sealed class TimerQueueScheduler : SchedulerBase, IDateTimeOffsetNowTimeProvider, IDisposable
{
    /// <summary>This scheduler as <c>akka.scheduler.implementation</c> names it.</summary>
    internal static readonly string ConfigName = $"{typeof(TimerQueueScheduler).FullName}, {typeof(TimerQueueScheduler).Assembly.GetName().Name}";

    // The longest wait a runtime Timer takes (about 49.7 days); a longer delay is waited out in such steps, as Akka's
    // wheel accepts it too.
    private static readonly TimeSpan LongestTimerWait = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    // Longer than any sensible timer, short enough that the clock plus it cannot overflow.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(365 * 1000);

    private static readonly long ClockStart = Stopwatch.GetTimestamp();

    // Every timer not yet fired or cancelled, so Dispose can drop them: an intrusive list (no allocation per timer).
    private readonly Lock _gate = new();
    private readonly TimeSpan _longestStep;
    private ScheduledWork? _head;
    private volatile bool _disposed; // written under _gate; read without it where a stale false only costs a Forget

    /// <summary>Created by Akka from <c>akka.scheduler.implementation</c>.</summary>
    /// <param name="config">The actor system's settings.</param>
    /// <param name="log">The scheduler's log.</param>
    public TimerQueueScheduler(Config config, ILoggingAdapter log) : this(config, log, LongestTimerWait)
    {
    }

    /// <summary>With a shorter longest step than the runtime's, so a test can watch a long wait taken in steps.</summary>
    internal TimerQueueScheduler(Config config, ILoggingAdapter log, TimeSpan longestStep) : base(config, log) =>
        _longestStep = longestStep;

    /// <inheritdoc />
    protected override DateTimeOffset TimeNow => DateTimeOffset.Now;

    /// <inheritdoc />
    public override TimeSpan MonotonicClock => Stopwatch.GetElapsedTime(ClockStart);

    /// <inheritdoc />
    public override TimeSpan HighResMonotonicClock => Stopwatch.GetElapsedTime(ClockStart);

    /// <inheritdoc />
    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Schedule(delay, null, new ScheduledTell(receiver, message, sender), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message,
        IActorRef sender, ICancelable cancelable) =>
        Schedule(initialDelay, interval, new ScheduledTell(receiver, message, sender), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Schedule(delay, null, new ActionRunnable(action), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Schedule(delay, null, action, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, new ActionRunnable(action), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, action, cancelable);

    /// <summary>Drops every timer still waiting; none runs after this returns (one already running finishes).</summary>
    public void Dispose()
    {
        ScheduledWork? waiting;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            waiting = _head;
            _head = null;
        }

        for (var work = waiting; work is not null;)
        {
            var next = work.Next;
            work.Next = work.Previous = null;
            work.Release();
            work = next;
        }
    }

    private void Schedule(TimeSpan delay, TimeSpan? interval, IRunnable action, ICancelable? cancelable)
    {
        if (cancelable?.IsCancellationRequested == true) return;
        var work = new ScheduledWork(this, action, cancelable, interval);
        lock (_gate)
        {
            if (_disposed) throw new SchedulerException("The scheduler has been disposed: the actor system is shutting down.");
            work.Next = _head;
            if (_head is not null) _head.Previous = work;
            _head = work;
        }

        work.Start(delay);
    }

    /// <summary>
    /// Takes <paramref name="work"/> out of the waiting list; false when it was already out (fired, cancelled) or the
    /// scheduler is disposed, whose <see cref="Dispose"/> owns the detached list and releases every entry in it.
    /// </summary>
    private bool Forget(ScheduledWork work)
    {
        lock (_gate)
        {
            if (_disposed || (work.Previous is null && _head != work)) return false;
            if (work.Previous is not null) work.Previous.Next = work.Next;
            else _head = work.Next;
            if (work.Next is not null) work.Next.Previous = work.Previous;
            work.Next = work.Previous = null;
            return true;
        }
    }

    private bool IsDisposed => _disposed;

    /// <summary>One scheduled action: its timer, its cancellation, its place in the waiting list.</summary>
    private sealed class ScheduledWork(TimerQueueScheduler owner, IRunnable action, ICancelable? cancelable, TimeSpan? interval)
    {
        private Timer? _timer;
        private CancellationTokenRegistration _cancellation;
        private bool _released;
        private long _dueAtTicks; // where a wait longer than one timer step ends, on this scheduler's clock; 0 otherwise

        public ScheduledWork? Next;
        public ScheduledWork? Previous;

        public void Start(TimeSpan delay)
        {
            // The registration first, so a cancel that races the start still finds the timer to dispose (or none to start).
            if (cancelable is not null) _cancellation = cancelable.Token.UnsafeRegister(static state => ((ScheduledWork)state!).Cancel(), this);
            // Without the scheduling thread's execution context: a timer would otherwise keep its async-locals (an HTTP
            // request's, an activity) alive until it fires, and run the action under them.
            Timer timer;
            if (ExecutionContext.IsFlowSuppressed()) timer = NewTimer();
            else
                using (ExecutionContext.SuppressFlow())
                    timer = NewTimer();
            lock (this)
            {
                if (_released) { timer.Dispose(); return; }
                _timer = timer;
                Arm(delay);
            }
        }

        /// <summary>Sets the timer to fire after <paramref name="wait"/>, or after the longest step the runtime takes. Under the lock.</summary>
        private void Arm(TimeSpan wait)
        {
            if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
            if (wait > LongestWait) wait = LongestWait;
            var step = owner._longestStep;
            _dueAtTicks = wait > step ? (Stopwatch.GetElapsedTime(ClockStart) + wait).Ticks : 0;
            _timer!.Change(wait > step ? step : wait, Timeout.InfiniteTimeSpan);
        }

        /// <summary>True when the timer fired on a step of a longer wait, and was set for the rest of it.</summary>
        private bool ArmedForTheRest()
        {
            if (Volatile.Read(ref _dueAtTicks) == 0) return false; // the usual case: one step was the whole wait
            lock (this)
            {
                if (_released || _dueAtTicks == 0) return false;
                var rest = TimeSpan.FromTicks(_dueAtTicks) - Stopwatch.GetElapsedTime(ClockStart);
                if (rest <= TimeSpan.Zero) return false;
                Arm(rest);
                return true;
            }
        }

        private Timer NewTimer() => new(static state => ((ScheduledWork)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        private void Fire()
        {
            if (cancelable?.IsCancellationRequested == true || owner.IsDisposed || ArmedForTheRest()) return;
            if (interval is null)
            {
                if (!owner.Forget(this)) return;
                Release();
                Run();
                return;
            }

            if (!Run())
            {
                // As Akka's own scheduler does: a repeating task that failed is not run again.
                Cancel();
                return;
            }

            lock (this)
            {
                // Fixed delay: the next run counts from the end of this one, and never overlaps it.
                if (!_released) Arm(interval.Value);
            }
        }

        /// <summary>Runs the action; false when it threw (logged by type only: a message may carry a login's secrets).</summary>
        private bool Run()
        {
            try
            {
                action.Run();
                return true;
            }
            catch (Exception e)
            {
                owner.Log.Error("A scheduled task failed with {0}; a repeating one is not run again", e.GetType().Name);
                return false;
            }
        }

        private void Cancel()
        {
            if (owner.Forget(this)) Release();
        }

        /// <summary>Stops the timer and lets go of the action (and so of the actor it would have told).</summary>
        public void Release()
        {
            Timer? timer;
            lock (this)
            {
                if (_released) return;
                _released = true;
                timer = _timer;
                _timer = null;
            }

            timer?.Dispose();
            _cancellation.Dispose();
        }
    }

    private sealed class ScheduledTell(ICanTell receiver, object message, IActorRef sender) : IRunnable
    {
        public void Run() => receiver.Tell(message, sender);

        public void Execute() => Run();
    }
}
