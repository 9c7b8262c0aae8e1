using Akka.Actor;
using Akka.Event;
using O8Actors.Browser;
using O8Actors.Configuration;

namespace O8Actors.Flows;

/// <summary>
/// The top-level actor that creates one <see cref="FlowActor"/> per login, relays each login's single outcome to
/// whoever started it, and guarantees an outcome even when a flow actor dies unexpectedly.
/// </summary>
public sealed class FlowsSupervisor : ReceiveActor
{
    private const string ChildPrefix = "flow-";

    private readonly FlowOptions _options;
    private readonly IActorRef _listener;
    private readonly IActorRef _providers;
    private readonly IBrowserLauncher _browser;
    private readonly string? _flowMailbox;
    private readonly Dictionary<string, Running> _flows = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _drainedNotify;

    /// <summary>Props for the supervisor.</summary>
    public static Props Props(FlowOptions options, IActorRef listener, IActorRef providers, IBrowserLauncher browser) =>
        Akka.Actor.Props.Create(() => new FlowsSupervisor(options, listener, providers, browser));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public FlowsSupervisor(FlowOptions options, IActorRef listener, IActorRef providers, IBrowserLauncher browser)
    {
        _options = options;
        _listener = listener;
        _providers = providers;
        _browser = browser;
        // O8Actors' own systems always carry o8.conf; a bare actor system (a unit test) keeps Akka's default mailbox.
        _flowMailbox = Context.System.Settings.Config.HasPath(FlowMailbox.ConfigPath) ? FlowMailbox.ConfigPath : null;

        Receive<StartFlow>(Start);
        Receive<FlowOutcome>(Relay);
        Receive<FlowActorStopped>(OnFlowStopped);
        Receive<CancelFlow>(msg =>
        {
            if (_flows.TryGetValue(msg.FlowId, out var entry)) entry.Flow.Tell(msg);
        });
        Receive<CancelAllFlows>(_ =>
        {
            _drainedNotify = Sender;
            foreach (var (flowId, entry) in _flows) entry.Flow.Tell(new CancelFlow(flowId));
            NotifyIfDrained();
        });
        Receive<GetFlowsInFlight>(_ => Sender.Tell(new FlowsInFlight(_flows.Count)));
    }

    /// <summary>A flow actor that throws is stopped, never restarted: a restart would mint a new state and lose the login.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new StopFailedFlows();

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Stopped (the actor system shuts down): a caller waiting on a completion must not wait forever.
        foreach (var (flowId, entry) in _flows) entry.Completion?.TrySetResult(new FlowCancelled(flowId));
        _flows.Clear();
    }

    private void Start(StartFlow msg)
    {
        if (_drainedNotify is not null)
        {
            Reply(msg, new FlowCancelled(msg.FlowId));
            return;
        }
        if (_flows.ContainsKey(msg.FlowId))
        {
            var duplicate = new ArgumentException($"A login with id '{msg.FlowId}' is already running.");
            if (msg.Completion is { } completion) completion.TrySetException(duplicate);
            else Sender.Tell(new Status.Failure(duplicate));
            return;
        }

        var props = FlowActor.Props(msg.FlowId, msg.Provider, msg.Request, _options, _listener, _providers, _browser, Self);
        if (_flowMailbox is not null) props = props.WithMailbox(_flowMailbox);
        var flow = Context.ActorOf(props, ChildPrefix + msg.FlowId);
        _flows[msg.FlowId] = new Running(flow, msg.Completion is null ? Sender : null, msg.Completion);
    }

    private void Relay(FlowOutcome outcome)
    {
        if (!_flows.Remove(outcome.FlowId, out var entry)) return;
        Deliver(entry, outcome);
        NotifyIfDrained();
    }

    private void OnFlowStopped(FlowActorStopped msg)
    {
        // The child's name carries its flow id, so no second table is needed to find it. A login that ended normally
        // was removed when its outcome arrived, which is always before this (the outcome was sent before it stopped).
        var flowId = msg.Flow.Path.Name[ChildPrefix.Length..];
        if (_flows.TryGetValue(flowId, out var entry) && entry.Flow.Equals(msg.Flow))
        {
            _flows.Remove(flowId);
            _log.Error("Login {0} stopped without an outcome; reporting it as failed", flowId);
            Deliver(entry, new FlowFailed(flowId, FlowFailure.TokenExchange, "The login stopped unexpectedly (internal error)."));
        }
        NotifyIfDrained();
    }

    private void Reply(StartFlow msg, FlowOutcome outcome)
    {
        if (msg.Completion is { } completion) completion.TrySetResult(outcome);
        else Sender.Tell(outcome);
    }

    private static void Deliver(Running entry, FlowOutcome outcome)
    {
        if (entry.Completion is { } completion) completion.TrySetResult(outcome);
        else entry.ReplyTo?.Tell(outcome);
    }

    private void NotifyIfDrained()
    {
        if (_drainedNotify is null || _flows.Count > 0) return;
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

    /// <summary>One login in flight: its actor, and where its outcome goes.</summary>
    private sealed record Running(IActorRef Flow, IActorRef? ReplyTo, TaskCompletionSource<FlowOutcome>? Completion);
}
