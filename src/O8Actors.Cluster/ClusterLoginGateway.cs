using Akka.Actor;
using Akka.Event;
using O8Actors.Callback;
using O8Actors.Diagnostics;
using O8Actors.Hosting;

namespace O8Actors.Cluster;

/// <summary>
/// This node's door to the cluster's logins (registered as the server-mode route): begins a login in a fresh entity
/// and keeps its caller's URL and outcome until the entity reports them, and hands every callback that reaches this
/// node to the entity its state names. Node-local; one per node.
/// </summary>
/// <remarks>
/// Outcomes are never lost silently: once a login's entity has reported its URL, the gateway DeathWatches it, so a login
/// whose node dies (or leaves) ends for its caller as <see cref="LoginFailure.NodeLost"/> when that node is removed from
/// the cluster; a begin that no entity took within <see cref="O8ClusterOptions.BeginTimeout"/> fails too.
/// </remarks>
internal sealed class ClusterLoginGateway : ReceiveActor, IWithTimers
{
    private readonly IActorRef _region;
    private readonly TimeSpan _beginTimeout;
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    // Watched entity → its login id (an entity runs one login).
    private readonly Dictionary<IActorRef, string> _watched = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public ClusterLoginGateway(IActorRef region, TimeSpan beginTimeout)
    {
        _region = region;
        _beginTimeout = beginTimeout;
        Receive<BeginRoutedLogin>(Begin);
        Receive<CancelRoutedLogin>(msg =>
        {
            if (_pending.TryGetValue(msg.LoginId, out var pending)) _region.Tell(new CancelLogin(pending.EntityId, msg.LoginId));
        });
        Receive<LoginUrlReady>(msg =>
        {
            if (!_pending.TryGetValue(msg.LoginId, out var pending)) return;
            Timers.Cancel(msg.LoginId);
            pending.Url.TrySetResult(msg.AuthorizeUrl);
            // The sender is the login's entity, wherever it runs: its node's loss must end the login for this caller.
            pending.Entity = Sender;
            if (_watched.TryAdd(Sender, msg.LoginId)) Context.Watch(Sender);
        });
        Receive<LoginEnded>(msg => End(msg.LoginId, msg.Outcome.ToOutcome()));
        Receive<BeginTimedOut>(msg => End(msg.LoginId, new LoginFailed(msg.LoginId, LoginFailure.ListenerUnavailable,
            $"No node of the cluster took this login within {_beginTimeout.TotalSeconds:0.#} s (is the cluster formed, and does a node with the logins' role run?).")));
        Receive<Terminated>(msg =>
        {
            if (!_watched.Remove(msg.ActorRef, out var loginId)) return;
            // Its LoginEnded would have come first (it unwatches); none came, so the entity died with its node.
            if (_pending.ContainsKey(loginId)) _log.Warning("Login {0} lost its node before it ended", loginId);
            End(loginId, LoginEntity.NodeLost(loginId));
        });
        Receive<CallbackReceived>(Route);
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the gateway in front of <paramref name="region"/> (the logins' shard region).</summary>
    public static Props Props(IActorRef region, TimeSpan beginTimeout) => Akka.Actor.Props.Create(() => new ClusterLoginGateway(region, beginTimeout));

    private sealed record BeginTimedOut(string LoginId);

    private void End(string loginId, LoginOutcome outcome)
    {
        if (!_pending.Remove(loginId, out var pending)) return;
        Timers.Cancel(loginId);
        if (pending.Entity is { } entity && _watched.Remove(entity)) Context.Unwatch(entity);
        pending.Url.TrySetCanceled();
        pending.Outcome.TrySetResult(outcome);
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Stopped with the actor system: a caller waiting on an outcome must not wait forever.
        foreach (var (loginId, pending) in _pending)
        {
            pending.Url.TrySetCanceled();
            pending.Outcome.TrySetResult(new LoginCancelled(loginId));
        }

        _pending.Clear();
    }

    private void Begin(BeginRoutedLogin msg)
    {
        if (_pending.ContainsKey(msg.LoginId))
        {
            msg.Outcome.TrySetResult(new LoginFailed(msg.LoginId, LoginFailure.Internal, $"A login with id '{msg.LoginId}' is already running."));
            return;
        }

        var entityId = LoginEntityIds.Mint();
        _pending.Add(msg.LoginId, new Pending(entityId, msg.Url, msg.Outcome));
        Timers.StartSingleTimer(msg.LoginId, new BeginTimedOut(msg.LoginId), _beginTimeout);
        _region.Tell(BeginLogin.For(entityId, msg.LoginId, msg.Provider, msg.Request, msg.Binding, Self));
    }

    private void Route(CallbackReceived callback)
    {
        if (!LoginEntityIds.TryGetEntityId(callback.State, out var entityId))
        {
            // Not a cluster login's state: no entity is asked (and none is created). Debug only: anyone can send these.
            _log.Debug("Cluster callback rejected: the state names no login");
            O8Metrics.CallbacksRejected.Add(1, new KeyValuePair<string, object?>("reason", "unknown_state"));
            Sender.Tell(CallbackPages.UnknownState);
            return;
        }

        // The asking request stays the sender: the entity's login answers it directly, across nodes.
        _region.Tell(RoutedCallback.For(entityId, callback), Sender);
    }

    private sealed record Pending(string EntityId, TaskCompletionSource<Uri> Url, TaskCompletionSource<LoginOutcome> Outcome)
    {
        /// <summary>The entity, once it reported the URL (watched from then on).</summary>
        public IActorRef? Entity { get; set; }
    }
}
