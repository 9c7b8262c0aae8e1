using System.Collections.Immutable;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Newtonsoft.Json;

namespace O8Actors.Cluster.Bootstrap;

/// <summary>
/// What a node answers another node's cluster bootstrap probe with: its own address and the members it knows that can
/// serve as seed nodes. The shape is Akka.Management's contact-point protocol (its <see cref="HttpBootstrapJsonProtocol"/>
/// types, written with Newtonsoft.Json as its prober reads them), so the prober is Akka.Management's, unchanged.
/// </summary>
internal static class SeedNodesDocument
{
    /// <summary>The JSON for <paramref name="cluster"/>'s current state, at most <paramref name="maxSeedNodes"/> members.</summary>
    public static string Of(Akka.Cluster.Cluster cluster, int maxSeedNodes)
    {
        var self = cluster.SelfMember;
        // A node on its way out offers no seed nodes: a prober must not join a cluster through it.
        if (self.Status is MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Down or MemberStatus.Removed)
            return Write(self, []);

        var state = cluster.State;
        var seeds = state.Members
            .Where(m => !state.Unreachable.Contains(m))
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
            .Take(maxSeedNodes)
            .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.UniqueAddress.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
            .ToList();
        // Shuffled as Akka.Management's own endpoint does, so that probers do not all pick the same first seed.
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seeds));
        return Write(self, seeds);
    }

    private static string Write(Member self, IEnumerable<HttpBootstrapJsonProtocol.ClusterMember> seeds) =>
        JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.UniqueAddress.Address, seeds.ToImmutableList()));
}
