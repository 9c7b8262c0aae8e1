using Akka.Actor;
using Akka.Cluster;

namespace O8Actors.Cluster;

/// <summary>
/// Runs on a node from the start of its hand-off until its actor system stops, telling the login gateway of every other
/// member of the role (whatever its status: one leaving itself routes through the others too), and of every member that
/// joins meanwhile (a rolling deploy's new pod), that this node leaves (<see cref="NodeLeaving"/>): it stays an Up member until its shutdown's <c>cluster-leave</c> phase, long
/// after its regions have stopped, and a node that leaves too would otherwise pick it as the one that stays.
/// </summary>
internal sealed class LeavingAnnouncer : ReceiveActor
{
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);

    /// <summary>Props for the announcer of this node; <paramref name="loginGateway"/> names the gateway on every node.</summary>
    public static Props Props(IActorRef loginGateway, string? role) => Akka.Actor.Props.Create(() => new LeavingAnnouncer(loginGateway, role));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public LeavingAnnouncer(IActorRef loginGateway, string? role)
    {
        var leaving = new NodeLeaving(_cluster.SelfAddress.ToString(), _cluster.SelfUniqueAddress.Uid);
        var gatewayPath = loginGateway.Path.Elements;
        // Every member still in the cluster is told, whatever its status: one that leaves itself routes through the others
        // too. The members there now arrive as events (InitialStateAsEvents), so one path tells them and the newcomers;
        // a newcomer is told again as it comes up, as its gateway may not have run when it joined (telling twice is harmless).
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            var member = e.Member;
            if (e is ClusterEvent.MemberRemoved || member.Address.Equals(_cluster.SelfAddress) || (!string.IsNullOrEmpty(role) && !member.HasRole(role))) return;
            Context.ActorSelection(new RootActorPath(member.Address) / gatewayPath).Tell(leaving);
        });
    }

    /// <inheritdoc />
    protected override void PreStart() => _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

    /// <inheritdoc />
    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
