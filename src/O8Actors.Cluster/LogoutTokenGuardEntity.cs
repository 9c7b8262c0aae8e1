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
/// gracefully): told <see cref="LogoutTokenGuardHandOff"/>, it sends what it holds to the region under its own id and
/// stops; the region keeps that message until the shard has its next home, where the next incarnation merges it. A
/// replay posted meanwhile waits in the regions too, and the region of another node may deliver it first: so a guard
/// that starts holds back every check (stashed, in order) until the hand-over arrives, or for
/// <see cref="HandOverWait"/> when none does (the provider's first guard, or one whose node crashed). A node that
/// crashes takes its guard's memory with it: its next incarnation starts empty, and a replay within the token's few
/// minutes would be accepted once more. A token held by a logout whose node stopped before it completed or failed is a
/// lease that runs out (<see cref="BackChannelLogoutCall.Lease"/>): the provider's next post after that carries the logout out.
/// </remarks>
internal sealed class LogoutTokenGuardEntity : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>
    /// How long a guard that starts waits for its predecessor's hand-over before it answers from an empty memory. The
    /// hand-over is on its way before the shard can start again and usually arrives first or within milliseconds; this
    /// covers a region's retry of its request for the shard's home (2 s by default). Only a guard with no predecessor
    /// (the provider's first check since the cluster started, or since its node crashed) waits for all of it.
    /// </summary>
    public static readonly TimeSpan HandOverWait = TimeSpan.FromSeconds(3);

    private readonly LogoutTokenReplayGuard _guard = new();
    private readonly string _provider;
    private readonly IActorRef _region;
    private readonly TimeSpan _handOverWait;

    /// <summary>Props for <paramref name="provider"/>'s guard, which hands over through <paramref name="region"/> (the guards' shard region).</summary>
    public static Props Props(string provider, IActorRef region) => Props(provider, region, HandOverWait);

    /// <summary>The same, waiting <paramref name="handOverWait"/> for a predecessor's hand-over (zero: none is awaited).</summary>
    public static Props Props(string provider, IActorRef region, TimeSpan handOverWait) =>
        Akka.Actor.Props.Create(() => new LogoutTokenGuardEntity(provider, region, handOverWait));

    /// <summary>Creates the actor; use <see cref="Props(string, IActorRef)"/>.</summary>
    public LogoutTokenGuardEntity(string provider, IActorRef region, TimeSpan handOverWait)
    {
        _provider = provider;
        _region = region;
        _handOverWait = handOverWait;
        if (handOverWait > TimeSpan.Zero) Become(AwaitingHandOver);
        else Become(Guarding);
    }

    /// <inheritdoc />
    public IStash Stash { get; set; } = null!;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void PreStart()
    {
        if (_handOverWait > TimeSpan.Zero) Timers.StartSingleTimer(HandOverWaitEnded.Instance, HandOverWaitEnded.Instance, _handOverWait);
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void AwaitingHandOver()
    {
        Receive<LogoutTokensHandedOver>(msg =>
        {
            _guard.Merge(msg.Holds, Now);
            StartGuarding();
        });
        Receive<HandOverWaitEnded>(_ => StartGuarding());
        Receive<LogoutTokenGuardHandOff>(_ => HandOff());
        ReceiveAny(_ => Stash.Stash());
    }

    private void StartGuarding()
    {
        Timers.Cancel(HandOverWaitEnded.Instance);
        Become(Guarding);
        Stash.UnstashAll();
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
        // A hand-over later than the wait (or from an earlier move) still counts: merging never lets through what either refused.
        Receive<LogoutTokensHandedOver>(msg => _guard.Merge(msg.Holds, Now));
        Receive<LogoutTokenGuardHandOff>(_ => HandOff());
    }

    private void HandOff()
    {
        _region.Tell(new LogoutTokensHandedOver(_provider, _guard.Export(Now)), ActorRefs.NoSender);
        // Checks held back while this incarnation waited for its own hand-over go after it, in their order, with their senders.
        foreach (var held in Stash.ClearStash()) _region.Tell(held.Message, held.Sender);
        Context.Stop(Self);
    }

    private sealed class HandOverWaitEnded
    {
        public static readonly HandOverWaitEnded Instance = new();
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
        LogoutTokensHandedOver m => m.Provider,
        _ => null,
    };
}

/// <summary>Registry key of the shard region of the logout-token guards (one entity per provider).</summary>
internal sealed class LogoutTokenGuardRegionKey;
