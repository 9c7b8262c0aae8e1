using Akka.Actor;
using Akka.Cluster.Sharding;
using O8Actors.Logout;

namespace O8Actors.Cluster;

/// <summary>
/// One provider's accepted back-channel logout tokens, for the whole cluster: an entity of the
/// <c>o8-logout-tokens</c> region whose id is the provider's name, so every node's check of a token's <c>jti</c> goes
/// to the same actor, one message at a time, and a token replayed to another node is refused as on a single node.
/// </summary>
/// <remarks>
/// Never passivated (a provider's tokens are few, and its guard forgets each once the token could no longer pass its
/// lifetime check). In memory only: when the entity moves (its node left, or a rebalance), what it had accepted is
/// forgotten, and a replay within the token's few minutes would be accepted once more on the new node. A token held by
/// a logout whose node stopped before it completed or failed is a lease that runs out (<see cref="BackChannelLogoutCall.Lease"/>):
/// the provider's next post after that carries the logout out.
/// </remarks>
internal sealed class LogoutTokenGuardEntity : ReceiveActor
{
    private readonly LogoutTokenReplayGuard _guard = new();

    /// <summary>Props for one provider's guard.</summary>
    public static Props Props() => Akka.Actor.Props.Create(() => new LogoutTokenGuardEntity());

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public LogoutTokenGuardEntity()
    {
        Receive<AcceptLogoutToken>(msg =>
            Sender.Tell(new LogoutTokenAcceptance(_guard.Accept(msg.JwtId, msg.Attempt, msg.KeepUntil, msg.Lease, Context.System.Scheduler.Now))));
        Receive<ForgetLogoutToken>(msg => _guard.Forget(msg.JwtId, msg.Attempt));
        Receive<RenewLogoutToken>(msg => _guard.Renew(msg.JwtId, msg.Attempt, msg.Lease, Context.System.Scheduler.Now));
        Receive<CompleteLogoutToken>(msg =>
        {
            _guard.Complete(msg.JwtId);
            Sender.Tell(new LogoutTokenCompleted(msg.JwtId));
        });
    }
}

/// <summary>Sharding's view of the guard's messages: the entity id is the provider's name.</summary>
internal sealed class LogoutTokenGuardMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <inheritdoc />
    public override string? EntityId(object message) => message switch
    {
        AcceptLogoutToken m => m.Provider,
        ForgetLogoutToken m => m.Provider,
        RenewLogoutToken m => m.Provider,
        CompleteLogoutToken m => m.Provider,
        _ => null,
    };
}

/// <summary>Registry key of the shard region of the logout-token guards (one entity per provider).</summary>
internal sealed class LogoutTokenGuardRegionKey;
