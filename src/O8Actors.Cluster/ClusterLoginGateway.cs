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
internal sealed class ClusterLoginGateway : ReceiveActor
{
    private readonly IActorRef _region;
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public ClusterLoginGateway(IActorRef region)
    {
        _region = region;
        Receive<BeginRoutedLogin>(Begin);
        Receive<CancelRoutedLogin>(msg =>
        {
            if (_pending.TryGetValue(msg.LoginId, out var pending)) _region.Tell(new CancelLogin(pending.EntityId, msg.LoginId));
        });
        Receive<LoginUrlReady>(msg =>
        {
            if (_pending.TryGetValue(msg.LoginId, out var pending)) pending.Url.TrySetResult(msg.AuthorizeUrl);
        });
        Receive<LoginEnded>(msg =>
        {
            if (!_pending.Remove(msg.LoginId, out var pending)) return;
            pending.Url.TrySetCanceled();
            pending.Outcome.TrySetResult(msg.Outcome.ToOutcome());
        });
        Receive<CallbackReceived>(Route);
    }

    /// <summary>Props for the gateway in front of <paramref name="region"/> (the logins' shard region).</summary>
    public static Props Props(IActorRef region) => Akka.Actor.Props.Create(() => new ClusterLoginGateway(region));

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

    private sealed record Pending(string EntityId, TaskCompletionSource<Uri> Url, TaskCompletionSource<LoginOutcome> Outcome);
}
