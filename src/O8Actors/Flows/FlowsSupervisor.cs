using Akka.Actor;
using Akka.Event;
using O8Actors.Browser;
using O8Actors.Configuration;

namespace O8Actors.Flows;

/// <summary>
/// The top-level actor that creates one <see cref="FlowActor"/> per login, relays each login's single outcome to
/// whoever started it, and guarantees an outcome even when a flow actor dies unexpectedly.
/// </summary>
/// <remarks>
/// Each child is named by its flow id, so the supervisor keeps one table (flow id → who waits for the outcome) and
/// finds a child by name. Thousands of logins wait at once; every reference kept per login is multiplied by them.
/// </remarks>
public sealed class FlowsSupervisor : ReceiveActor
{
    private readonly FlowContext _context;
    private readonly Props _flowTemplate;
    // Flow id → the waiter: a TaskCompletionSource<LoginOutcome> (IOAuthLogins) or the IActorRef that sent StartFlow.
    private readonly Dictionary<string, object> _waiters = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _drainedNotify;

    /// <summary>Props for the supervisor.</summary>
    public static Props Props(LoginOptions options, IActorRef listener, IActorRef providers, IBrowserLauncher browser) =>
        Akka.Actor.Props.Create(() => new FlowsSupervisor(options, listener, providers, browser));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public FlowsSupervisor(LoginOptions options, IActorRef listener, IActorRef providers, IBrowserLauncher browser)
    {
        _context = new FlowContext(options, listener, providers, browser, Self);
        // O8Actors' own systems always carry o8.conf; a bare actor system (a unit test) keeps Akka's default mailbox.
        // One template, so every login shares one deployment instead of a copy each.
        _flowTemplate = Context.System.Settings.Config.HasPath(FlowMailbox.ConfigPath)
            ? FlowActorProps.Template.WithMailbox(FlowMailbox.ConfigPath)
            : FlowActorProps.Template;

        Receive<StartFlow>(Start);
        Receive<LoginOutcome>(Relay);
        Receive<FlowActorStopped>(OnFlowStopped);
        Receive<CancelFlow>(msg => Context.Child(msg.LoginId).Tell(msg));
        Receive<CancelAllFlows>(_ =>
        {
            _drainedNotify = Sender;
            foreach (var flowId in _waiters.Keys) Context.Child(flowId).Tell(new CancelFlow(flowId));
            NotifyIfDrained();
        });
        Receive<GetFlowsInFlight>(_ => Sender.Tell(new FlowsInFlight(_waiters.Count)));
    }

    /// <summary>A flow actor that throws is stopped, never restarted: a restart would mint a new state and lose the login.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new StopFailedFlows();

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Stopped (the actor system shuts down): a caller waiting on a completion must not wait forever.
        foreach (var (flowId, waiter) in _waiters)
            if (waiter is TaskCompletionSource<LoginOutcome> completion) completion.TrySetResult(new LoginCancelled(flowId));
        _waiters.Clear();
    }

    private void Start(StartFlow msg)
    {
        object waiter = msg.Completion is { } completion ? completion : Sender;
        if (_drainedNotify is not null)
        {
            Deliver(waiter, new LoginCancelled(msg.LoginId));
            return;
        }

        if (FlowIdProblem(msg.LoginId) is { } problem)
        {
            var refused = new ArgumentException(problem, nameof(msg.LoginId));
            if (msg.Completion is { } c) c.TrySetException(refused);
            else Sender.Tell(new Status.Failure(refused));
            return;
        }

        Context.ActorOf(new FlowActorProps(_flowTemplate, new FlowStart(_context, msg.LoginId, msg.Provider, msg.Request)), msg.LoginId);
        _waiters.Add(msg.LoginId, waiter);
    }

    /// <summary>Why <paramref name="flowId"/> cannot name a login's actor, or null.</summary>
    private string? FlowIdProblem(string flowId)
    {
        if (_waiters.ContainsKey(flowId) || !Context.Child(flowId).IsNobody())
            return $"A login with id '{flowId}' is already running.";
        if (!ActorPath.IsValidPathElement(flowId) || flowId.StartsWith('$'))
            return $"'{flowId}' cannot be a login id: use letters, digits and -_.*$+:@&=,!~';";
        return null;
    }

    private void Relay(LoginOutcome outcome)
    {
        if (!_waiters.Remove(outcome.LoginId, out var waiter)) return;
        Deliver(waiter, outcome);
        NotifyIfDrained();
    }

    private void OnFlowStopped(FlowActorStopped msg)
    {
        // A login that ended normally was removed when its outcome arrived, which is always before this: the outcome
        // was sent before the actor stopped. A live child of that name is a newer login that reused the id.
        var flowId = msg.Flow.Path.Name;
        if (Context.Child(flowId).IsNobody() && _waiters.Remove(flowId, out var waiter))
        {
            _log.Error("Login {0} stopped without an outcome; reporting it as failed", flowId);
            Deliver(waiter, new LoginFailed(flowId, LoginFailure.Internal, "The login stopped unexpectedly (internal error)."));
        }
        NotifyIfDrained();
    }

    private static void Deliver(object waiter, LoginOutcome outcome)
    {
        if (waiter is TaskCompletionSource<LoginOutcome> completion) completion.TrySetResult(outcome);
        else ((IActorRef)waiter).Tell(outcome);
    }

    private void NotifyIfDrained()
    {
        if (_drainedNotify is null || _waiters.Count > 0) return;
        _drainedNotify.Tell(new FlowsInFlight(0));
    }

    /// <summary>A child flow actor has stopped (sent by <see cref="StopFailedFlows"/>).</summary>
    private sealed record FlowActorStopped(IActorRef Flow);

    /// <summary>
    /// Stops a flow that throws, and tells the supervisor of every child that stops. The parent learns of each
    /// child's end from its supervisor strategy anyway, so it needs no DeathWatch (a Watch and an Unwatch, two system
    /// messages per login) to guarantee an outcome for a flow that dies without one.
    /// </summary>
    private sealed class StopFailedFlows() : OneForOneStrategy(_ => Directive.Stop)
    {
        public override void HandleChildTerminated(IActorContext actorContext, IActorRef child, IEnumerable<IInternalActorRef> children)
        {
            actorContext.Self.Tell(new FlowActorStopped(child));
            base.HandleChildTerminated(actorContext, child, children);
        }
    }
}
