using Akka.Actor;
using Akka.Cluster;

namespace O8Actors.Cluster;

/// <summary>
/// Whether a node can take begins and callbacks: only as a member that is up (or, having been up, leaves: it hands its
/// requests to the other nodes meanwhile). A node still joining, or one that never joined (bootstrap still looking for
/// its seed nodes), has no shard region that can place an entity: a begin sent to it waits out <c>BeginTimeout</c> and a
/// callback gets the 504 page, so the health check keeps the load balancer from sending it anything yet.
/// </summary>
internal static class ClusterReadiness
{
    /// <summary>The health check's question for <paramref name="system"/>'s node: why it is not ready, or null.</summary>
    public static Func<string?> Of(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        return () => Problem(cluster.SelfMember.Status, cluster.IsTerminated);
    }

    /// <summary>Why a node whose own member status is <paramref name="status"/> takes no requests, or null.</summary>
    internal static string? Problem(MemberStatus status, bool terminated) => terminated
        ? "this node's cluster membership has ended"
        : status switch
        {
            MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting => null,
            MemberStatus.Joining or MemberStatus.WeaklyUp => $"this node is joining its cluster ({status}); it takes requests once it is up",
            _ => $"this node is not a member of its cluster ({status}): it has not joined yet, or was removed",
        };
}
