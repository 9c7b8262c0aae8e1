using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using O8Actors.Logout;

namespace O8Actors.Cluster;

/// <summary>
/// Where a provider's logout-token guard leaves what it accepted when its entity moves, and where its next incarnation,
/// on whichever node, finds it: one last-writer-wins register per provider in Akka's Distributed Data, written to and
/// read from a majority of the nodes, so the read of the next incarnation (which starts only once the previous one has
/// stopped, after its write) meets the write. One per node.
/// </summary>
/// <remarks>
/// Not through the guards' shard region: a region keeps a message for a moving shard until the shard has a new home,
/// and while it keeps one it does not finish its own graceful shutdown; when every node stops (the cluster's last node,
/// or all at once) no home comes, and each node's region waited out its shutdown phase (120 s). A write to Distributed
/// Data holds nobody up: the entity waits for its answer (bounded by <see cref="Wait"/>), and that is all. A register
/// stays after it is read (a few holds, none past its token's end): a provider's guard that starts after a crash finds
/// the last move's, which only adds refusals that were true then, for tokens not yet expired.
/// </remarks>
internal sealed class LogoutTokenHandOverStore : ReceiveActor
{
    /// <summary>The longest a write or a read waits for a majority of the nodes, before it settles for this node's copy.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Props of a node's store over <paramref name="system"/>'s Distributed Data.</summary>
    public static Props Props(ActorSystem system) =>
        Akka.Actor.Props.Create(() => new LogoutTokenHandOverStore(DistributedData.Get(system).Replicator, Akka.Cluster.Cluster.Get(system).SelfUniqueAddress));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public LogoutTokenHandOverStore(IActorRef replicator, UniqueAddress node)
    {
        Receive<SaveLogoutTokenHandOver>(msg =>
        {
            var handOver = msg.HandOver;
            replicator.Tell(Dsl.Update(Key(handOver.Provider), new LWWRegister<LogoutTokensHandedOver>(node, handOver), new WriteMajority(Wait), Sender,
                register => register.WithValue(node, handOver)));
        });
        Receive<UpdateSuccess>(msg => ((IActorRef)msg.Request).Tell(LogoutTokenHandOverSaved.Instance));
        Receive<IUpdateFailure>(msg =>
        {
            // Written here at least (a timeout), and spread to the others as the replicas gossip.
            _log.Warning("A logout-token guard's hand-over was not confirmed by a majority of the nodes within {0} ({1}); it spreads from this node",
                Wait, msg.GetType().Name);
            ((IActorRef)msg.Request).Tell(LogoutTokenHandOverSaved.Instance);
        });

        Receive<FindLogoutTokenHandOver>(msg => replicator.Tell(Dsl.Get(Key(msg.Provider), new ReadMajority(Wait), new Finding(Sender, Locally: false))));
        Receive<GetSuccess>(msg => ((Finding)msg.Request).ReplyTo.Tell(
            new LogoutTokenHandOverFound(msg.Get((LWWRegisterKey<LogoutTokensHandedOver>)msg.Key).Value.Holds)));
        Receive<NotFound>(msg => ((Finding)msg.Request).ReplyTo.Tell(new LogoutTokenHandOverFound([])));
        Receive<GetFailure>(msg =>
        {
            // No majority answered in time: this node's copy is the best there is (it holds what gossip brought so far).
            var finding = (Finding)msg.Request;
            if (finding.Locally) finding.ReplyTo.Tell(new LogoutTokenHandOverFound([]));
            else replicator.Tell(Dsl.Get((LWWRegisterKey<LogoutTokensHandedOver>)msg.Key, ReadLocal.Instance, finding with { Locally = true }));
        });
    }

    private static LWWRegisterKey<LogoutTokensHandedOver> Key(string provider) => new("o8-logout-tokens-" + provider);

    private sealed record Finding(IActorRef ReplyTo, bool Locally);
}
