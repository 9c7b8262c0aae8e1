using Akka.Actor;
using Akka.Event;
using O8Actors.Callback;
using O8Actors.Diagnostics;
using O8Actors.Flows;
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
/// Bounded work: <c>o8.login.max-pending</c> and <c>max-pending-per-partition</c> apply to the logins this node began
/// (wherever they run), so a cluster of N nodes holds at most N times the limit.
/// </remarks>
internal sealed class ClusterLoginGateway : ReceiveActor, IWithTimers, IWithStash
{
    // Where begins, cancels and callbacks go: the logins' region, or once this node leaves (ThroughAnotherNode) the same
    // region on another member that is up (none: this is the last node).
    private readonly RegionRoute _logins;
    private readonly TimeSpan _beginTimeout;
    private readonly Task<ClusterLoginNode> _node;
    // Set once this node's O8Actors has started (its login settings hold the limits); until then begins are stashed.
    private PendingLoginLimits? _limits;
    private IActorRef? _listener;
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    // Watched entity → its login id (an entity runs one login).
    private readonly Dictionary<IActorRef, string> _watched = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public ClusterLoginGateway(IActorRef region, Func<ICanTell?> elsewhere, TimeSpan beginTimeout, Task<ClusterLoginNode> node)
    {
        _logins = new RegionRoute(region, elsewhere);
        _beginTimeout = beginTimeout;
        _node = node;
        Receive<NodeReady>(ready =>
        {
            _limits = new PendingLoginLimits(ready.Node.Login, _log);
            _listener = ready.Node.Listener;
            // The listener stops in the shutdown's service-unbind phase, long before this gateway (and while this node is
            // still an Up member that others ask about sign-out returns): a question forwarded to it then was answered by
            // no one, and the asking node waited out its ask.
            if (_listener is not null) Context.Watch(_listener);
            Stash.UnstashAll();
        });
        Receive<NodeFailed>(_ =>
        {
            // O8Actors did not start here: begins cannot be judged, so they are refused rather than held forever.
            _log.Error("O8Actors did not start on this node; cluster logins begun here are refused");
            _limits = null;
            Stash.UnstashAll();
            Become(Refusing);
        });
        Receive<BeginRoutedLogin>(msg =>
        {
            if (_limits is null) Stash.Stash();
            else Begin(msg, _limits);
        });
        Receive<CancelRoutedLogin>(msg =>
        {
            if (!_pending.TryGetValue(msg.LoginId, out var pending)) return;
            Cancel(pending, msg.LoginId);
            // No node has reported it yet (its begin may wait in a region's buffer while shards are placed): nothing would
            // report its end before the begin's deadline, so its caller hears now, as a single node's would. The cancel
            // above follows the begin through the same region, and ends the login should it start after all.
            if (pending.Entity is null) End(msg.LoginId, new LoginCancelled(msg.LoginId));
        });
        Receive<LoginTaken>(msg =>
        {
            if (_pending.TryGetValue(msg.LoginId, out var pending)) Taken(pending, msg.LoginId);
        });
        Receive<LoginUrlReady>(msg =>
        {
            if (!_pending.TryGetValue(msg.LoginId, out var pending)) return;
            Taken(pending, msg.LoginId);
            pending.Url.TrySetResult(msg.AuthorizeUrl);
        });
        Receive<LoginEnded>(msg => End(msg.LoginId, UnknownProviderOnNode.Explain(msg.Outcome.ToOutcome())));
        Receive<BeginTimedOut>(msg =>
        {
            // The begin may still sit in the region's buffer (no shard placed yet) and start a login later that nobody
            // waits for, holding a pending slot on its node: cancel it too.
            if (_pending.TryGetValue(msg.LoginId, out var pending)) Cancel(pending, msg.LoginId);
            End(msg.LoginId, new LoginFailed(msg.LoginId, LoginFailure.ListenerUnavailable,
                $"No node of the cluster took this login within {_beginTimeout.TotalSeconds:0.#} s (is the cluster formed, and does a node with the logins' role run?)."));
        });
        Receive<Terminated>(msg =>
        {
            if (msg.ActorRef.Equals(_listener))
            {
                // From now on this node holds no sign-out: it answers "not here" at once.
                _listener = null;
                return;
            }

            if (!_watched.Remove(msg.ActorRef, out var loginId)) return;
            // Its LoginEnded would have come first (it unwatches); none came, so the entity died with its node.
            if (_pending.ContainsKey(loginId)) _log.Warning("Login {0} lost its node before it ended", loginId);
            End(loginId, LoginEntity.NodeLost(loginId));
        });
        Receive<CallbackReceived>(Route);
        Receive<NodeLeaving>(NoteLeaving);
        Receive<ThroughAnotherNode>(_ =>
        {
            // This node still takes requests while it leaves (its HTTP server runs until the host stops), long after its
            // region has handed its shards off and stopped: through another node's region they reach their logins on the
            // nodes that stay (a begin, a shard the coordinator places there), not a stopped region that drops them.
            _logins.Leave();
            Sender.Tell(Akka.Done.Instance);
        });
        Receive<SignOutReturnHere>(msg =>
        {
            if (_listener is null) Sender.Tell(CallbackPages.Malformed);
            // Another node asks (the browser landed there): that node counts a return nobody waits for, once.
            else _listener.Forward(new CallbackReceived(msg.State, null, null, null, null, msg.Path) { Search = true });
        });
    }

    /// <summary>
    /// A node took the login (<see cref="LoginTaken"/>, or its URL came first from an entity of an older version): the
    /// begin's timeout ends, and the sender, the login's entity wherever it runs, is watched: its node's loss must end the
    /// login for this caller.
    /// </summary>
    private void Taken(Pending pending, string loginId)
    {
        Timers.Cancel(loginId);
        pending.Entity = Sender;
        if (_watched.TryAdd(Sender, loginId)) Context.Watch(Sender);
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    public IStash Stash { get; set; } = null!;

    /// <summary>
    /// Props for the gateway in front of <paramref name="region"/> (the logins' shard region), or once this node leaves
    /// of what <paramref name="elsewhere"/> finds when asked (the same region on another member that is up, null when
    /// there is none: <see cref="RegionOnAnotherNode.Find"/>); <paramref name="node"/> completes once this node's
    /// O8Actors has started.
    /// </summary>
    public static Props Props(IActorRef region, Func<ICanTell?> elsewhere, TimeSpan beginTimeout, Task<ClusterLoginNode> node) =>
        Akka.Actor.Props.Create(() => new ClusterLoginGateway(region, elsewhere, beginTimeout, node));

    private sealed record BeginTimedOut(string LoginId);

    private sealed record NodeReady(ClusterLoginNode Node);

    private sealed record NodeFailed;

    /// <inheritdoc />
    protected override void PreStart() =>
        _node.PipeTo(Self, success: n => new NodeReady(n), failure: _ => new NodeFailed());

    private void Refusing()
    {
        Receive<BeginRoutedLogin>(msg => msg.Outcome.TrySetResult(new LoginFailed(msg.LoginId, LoginFailure.ListenerUnavailable,
            "O8Actors is not running on this node.")));
        Receive<CallbackReceived>(_ => Sender.Tell(CallbackPages.UnknownState));
        // No sign-out can wait on a node where O8Actors did not start: "not here" at once, or the asking node's search
        // would wait out its ask for this node while the browser waits for its page.
        Receive<SignOutReturnHere>(_ => Sender.Tell(CallbackPages.Malformed));
        // Nothing here uses the region: nothing to switch, but the leaving node waits for the answer.
        Receive<ThroughAnotherNode>(_ => Sender.Tell(Akka.Done.Instance));
        // The account gateway routes through other nodes all the same when this node leaves.
        Receive<NodeLeaving>(NoteLeaving);
    }

    /// <summary>Another member leaves: this node no longer takes it for one that stays (<see cref="LeavingMembers"/>).</summary>
    private void NoteLeaving(NodeLeaving msg)
    {
        if (!Address.TryParse(msg.Address, out var address)) return;
        var members = Akka.Cluster.Cluster.Get(Context.System).State.Members.Select(m => m.UniqueAddress).ToList();
        LeavingMembers.Get(Context.System).Add(new Akka.Cluster.UniqueAddress(address, msg.Uid), members);
        _log.Info("Member {0} is leaving the cluster: this node no longer routes through it", address);
    }

    private void End(string loginId, LoginOutcome outcome)
    {
        if (!_pending.Remove(loginId, out var pending)) return;
        _limits?.Ended(loginId);
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
        _limits?.Clear();
    }

    private void Begin(BeginRoutedLogin msg, PendingLoginLimits limits)
    {
        if (_pending.ContainsKey(msg.LoginId))
        {
            msg.Outcome.TrySetResult(new LoginFailed(msg.LoginId, LoginFailure.Internal, $"A login with id '{msg.LoginId}' is already running."));
            return;
        }

        if (limits.Refusal(msg.LoginId, msg.Request.Partition, _pending.Count) is { } refusal)
        {
            msg.Outcome.TrySetResult(refusal);
            return;
        }

        if (_logins.Now is not { } route)
        {
            msg.Outcome.TrySetResult(new LoginFailed(msg.LoginId, LoginFailure.ListenerUnavailable, NoOtherNode));
            return;
        }

        var entityId = LoginEntityIds.Mint();
        _pending.Add(msg.LoginId, new Pending(entityId, msg.Url, msg.Outcome, route));
        limits.Started(msg.LoginId, msg.Request.Partition);
        Timers.StartSingleTimer(msg.LoginId, new BeginTimedOut(msg.LoginId), _beginTimeout);
        route.Tell(BeginLogin.For(entityId, msg.LoginId, msg.Provider, msg.Request, msg.Binding, Self), Self);
    }

    private void Route(CallbackReceived callback)
    {
        if (callback.Code is null && callback.Error is null)
        {
            // A sign-out's return (state only): its step waits on the node that began it. A login's state is never one,
            // so it gets the 400 of a malformed callback at once, and asks no other node.
            if (LoginEntityIds.TryGetEntityId(callback.State, out _))
            {
                RefuseMalformed();
                return;
            }

            // Only a state shaped like a sign-out's is worth asking every other node about: anything else is a stray
            // request, answered (and counted) by this node's listener alone, as on a single node. The search counts once a
            // return no node waits for, and not at all one that another node holds.
            if (!EndSessionActor.IsStateShaped(callback.State))
            {
                if (_listener is null) RefuseMalformed();
                else _listener.Forward(callback);
                return;
            }

            // A node whose listener has stopped (shutting down) holds no sign-out, but another node may.

            SignOutReturnSearch.FindAsync(_listener, OtherGateways(), callback.State, callback.Path).PipeTo(Sender);
            return;
        }

        if (!LoginEntityIds.TryGetEntityId(callback.State, out var entityId))
        {
            // Not a cluster login's state: no entity is asked (and none is created). Debug only: anyone can send these.
            _log.Debug("Cluster callback rejected: the state names no login");
            O8Metrics.CallbackRejected(O8Metrics.UnknownStateReason);
            Sender.Tell(CallbackPages.UnknownState);
            return;
        }

        // The asking request stays the sender: the entity's login answers it directly, across nodes.
        if (_logins.Now is { } route) route.Tell(RoutedCallback.For(entityId, callback), Sender);
        // This node leaves and no other is up: no login can be reached, and the browser is told at once rather than after
        // the callback's wait.
        else Sender.Tell(CallbackPages.ShuttingDown);
    }

    /// <summary>Why a begin is refused on a node that leaves when no other node is up.</summary>
    private const string NoOtherNode = "This node is leaving the cluster and no other node is up to take the login.";


    private void RefuseMalformed()
    {
        O8Metrics.CallbackRejected(O8Metrics.MissingCodeAndErrorReason);
        Sender.Tell(CallbackPages.Malformed);
    }

    /// <summary>
    /// The gateways (this actor's name on each) of the other members that are up and reachable, for a sign-out's return
    /// (<see cref="SignOutReturnSearch.MembersToAsk"/>).
    /// </summary>
    private IReadOnlyList<ActorSelection> OtherGateways()
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        var state = cluster.State;
        return SignOutReturnSearch.MembersToAsk(state.Members.Select(m => (m.Address, m.Status)), state.Unreachable.Select(m => m.Address), cluster.SelfAddress)
            .Select(address => Context.ActorSelection(new RootActorPath(address) / Self.Path.Elements))
            .ToList();
    }

    /// <summary>
    /// Cancels a pending login's entity through the region its begin went through: a region keeps one sender's order, so
    /// the cancel cannot overtake a begin still in that region's buffer. When this node has since begun to leave (or the
    /// other node it sends through has changed), through where it sends now too: its own region may have handed off
    /// already, and a cancel that reaches an entity twice (or one that has no login yet, which stops) does no harm.
    /// </summary>
    private void Cancel(Pending pending, string loginId)
    {
        var cancel = new CancelLogin(pending.EntityId, loginId);
        pending.BegunThrough.Tell(cancel, Self);
        if (_logins.Now is { } now && !now.Equals(pending.BegunThrough)) now.Tell(cancel, Self);
    }

    private sealed record Pending(string EntityId, TaskCompletionSource<Uri> Url, TaskCompletionSource<LoginOutcome> Outcome, ICanTell BegunThrough)
    {
        /// <summary>The entity, once it reported the URL (watched from then on).</summary>
        public IActorRef? Entity { get; set; }
    }
}
