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
    private readonly FlowOptions _options;
    private readonly IActorRef _listener;
    private readonly IActorRef _providers;
    private readonly IBrowserLauncher _browser;
    private readonly Dictionary<string, (IActorRef Flow, IActorRef ReplyTo)> _flows = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _flowIds = new();
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

        Receive<StartFlow>(Start);
        Receive<FlowOutcome>(Relay);
        Receive<Terminated>(OnTerminated);
        Receive<CancelFlow>(msg =>
        {
            if (_flows.TryGetValue(msg.FlowId, out var entry)) entry.Flow.Tell(msg);
        });
        Receive<CancelAllFlows>(_ =>
        {
            _drainedNotify = Sender;
            foreach (var (flow, _) in _flows.Values) flow.Tell(new CancelFlow(_flowIds[flow]));
            NotifyIfDrained();
        });
        Receive<GetFlowsInFlight>(_ => Sender.Tell(new FlowsInFlight(_flows.Count)));
    }

    /// <summary>A flow actor that throws is stopped, never restarted: a restart would mint a new state and lose the login.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private void Start(StartFlow msg)
    {
        if (_drainedNotify is not null)
        {
            Sender.Tell(new FlowCancelled(msg.FlowId));
            return;
        }
        if (_flows.ContainsKey(msg.FlowId))
        {
            Sender.Tell(new Status.Failure(new ArgumentException($"A login with id '{msg.FlowId}' is already running.")));
            return;
        }

        var flow = Context.ActorOf(
            FlowActor.Props(msg.FlowId, msg.Provider, msg.Request, _options, _listener, _providers, _browser, Self),
            "flow-" + msg.FlowId);
        Context.Watch(flow);
        _flows[msg.FlowId] = (flow, Sender);
        _flowIds[flow] = msg.FlowId;
    }

    private void Relay(FlowOutcome outcome)
    {
        if (!_flows.Remove(outcome.FlowId, out var entry)) return;
        _flowIds.Remove(entry.Flow);
        Context.Unwatch(entry.Flow);
        entry.ReplyTo.Tell(outcome);
        NotifyIfDrained();
    }

    private void OnTerminated(Terminated msg)
    {
        if (!_flowIds.Remove(msg.ActorRef, out var flowId)) return;
        if (_flows.Remove(flowId, out var entry))
        {
            _log.Error("Login {0} stopped without an outcome; reporting it as failed", flowId);
            entry.ReplyTo.Tell(new FlowFailed(flowId, FlowFailure.TokenExchange, "The login stopped unexpectedly (internal error)."));
        }
        NotifyIfDrained();
    }

    private void NotifyIfDrained()
    {
        if (_drainedNotify is null || _flows.Count > 0) return;
        _drainedNotify.Tell(new FlowsInFlight(0));
    }
}
