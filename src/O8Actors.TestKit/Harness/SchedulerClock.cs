using Akka.Actor;

namespace O8Actors.TestKit;

/// <summary>
/// The wall clock of a harness on virtual time, shared by its sandbox and its provider: the orchestrator's scheduler's
/// <c>Now</c> once it is bound (the sandbox starts before the actor system exists; until then, the real clock, which
/// the <c>TestScheduler</c> starts from). So a device login's polls, paced on the scheduler, are judged by the sandbox
/// on the same clock, and an ID token the sandbox issues is checked against the time it was issued on. Only the wall
/// clock is virtual: timers and timestamps stay real (a scripted delay still takes its time).
/// </summary>
internal sealed class SchedulerClock : TimeProvider
{
    private volatile IScheduler? _scheduler;

    /// <summary>From now on the clock reads <paramref name="scheduler"/>.</summary>
    public void Bind(IScheduler scheduler) => _scheduler = scheduler;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => _scheduler is { } scheduler ? scheduler.Now.ToUniversalTime() : base.GetUtcNow();
}
