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
/// lifetime check). In memory, and carried along when the entity moves (a rebalance, or its node leaves the cluster
/// gracefully): told <see cref="LogoutTokenGuardHandOff"/>, it leaves what it holds with its node's
/// <see cref="LogoutTokenHandOverStore"/> and stops once that is stored; its next incarnation, which sharding starts
/// only after that, reads it before it answers any check (checks that come meanwhile wait, stashed, in order). A node
/// that crashes takes its guard's memory with it: the next incarnation finds only what the guard left at its last move,
/// and a replay within the token's few minutes of a token accepted since would be accepted once more. A token held by a
/// logout whose node stopped before it completed or failed is a lease that runs out (<see cref="BackChannelLogoutCall.Lease"/>):
/// the provider's next post after that carries the logout out.
/// </remarks>
internal sealed class LogoutTokenGuardEntity : ReceiveActor, IWithUnboundedStash
{
    private readonly LogoutTokenReplayGuard _guard = new();
    private readonly string _provider;
    private readonly IActorRef _handOvers;

    /// <summary>Props for <paramref name="provider"/>'s guard, which takes over and leaves its memory through <paramref name="handOvers"/>.</summary>
    public static Props Props(string provider, IActorRef handOvers) =>
        Akka.Actor.Props.Create(() => new LogoutTokenGuardEntity(provider, handOvers));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public LogoutTokenGuardEntity(string provider, IActorRef handOvers)
    {
        _provider = provider;
        _handOvers = handOvers;
        Become(TakingOver);
    }

    /// <inheritdoc />
    public IStash Stash { get; set; } = null!;

    /// <inheritdoc />
    protected override void PreStart() => _handOvers.Tell(new FindLogoutTokenHandOver(_provider));

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void TakingOver()
    {
        Receive<LogoutTokenHandOverFound>(msg =>
        {
            _guard.Merge(msg.Holds, Now);
            Become(Guarding);
            Stash.UnstashAll();
        });
        // Moved on before it had read anything: the previous guard's memory is still where it left it, for the next one.
        // The checks held back are answered as under way elsewhere, so their posts are told at once to post again later
        // (their provider's retry reaches the next guard), instead of waiting out the check's whole wait (30 s).
        Receive<LogoutTokenGuardHandOff>(_ =>
        {
            foreach (var held in Stash.ClearStash())
                if (held.Message is AcceptLogoutToken)
                    held.Sender.Tell(new LogoutTokenAcceptance(LogoutTokenCheck.InProgress));
            Context.Stop(Self);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Guarding()
    {
        Receive<AcceptLogoutToken>(msg =>
            Sender.Tell(new LogoutTokenAcceptance(_guard.Accept(msg.JwtId, msg.Attempt, msg.KeepUntil, msg.Lease, Now))));
        Receive<ForgetLogoutToken>(msg => _guard.Forget(msg.JwtId, msg.Attempt));
        Receive<RenewLogoutToken>(msg => _guard.Renew(msg.JwtId, msg.Attempt, msg.Lease, Now));
        Receive<CompleteLogoutToken>(msg =>
        {
            _guard.Complete(msg.JwtId);
            Sender.Tell(new LogoutTokenCompleted(msg.JwtId));
        });
        Receive<LogoutTokenGuardHandOff>(_ =>
        {
            _handOvers.Tell(new SaveLogoutTokenHandOver(new LogoutTokensHandedOver(_provider, _guard.Export(Now))));
            // Nothing reaches a shard being handed off, so no check comes after this; one that did would not be in the hand-over.
            Become(() => Receive<LogoutTokenHandOverSaved>(_ => Context.Stop(Self)));
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
