using Akka.Actor;
using Akka.Event;

namespace O8Actors.Flows;

/// <summary>
/// Completes a login whose <see cref="StartFlow"/> never reached a live <see cref="FlowsSupervisor"/> (sent while the
/// actor system shuts down) as <see cref="LoginCancelled"/>, so a caller waiting on its completion never waits forever.
/// Subscribed to the event stream's dead letters; a top-level actor started next to the supervisor.
/// </summary>
internal sealed class UndeliveredLoginWatcher : UntypedActor
{
    /// <summary>Props for the watcher.</summary>
    public static Props Props() => Akka.Actor.Props.Create(() => new UndeliveredLoginWatcher());

    /// <inheritdoc />
    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DeadLetter));

    /// <inheritdoc />
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    /// <inheritdoc />
    protected override void OnReceive(object message)
    {
        if (message is DeadLetter { Message: StartFlow { Completion: { } completion } start })
            completion.TrySetResult(new LoginCancelled(start.LoginId));
    }
}
