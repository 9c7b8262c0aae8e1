using Akka.Actor;
using Akka.Cluster;

namespace O8Actors.Cluster;

/// <summary>
/// One shard region as found on another member of the cluster that is up: where a node that leaves sends what it sent to
/// its own region of that type (<see cref="ThroughAnotherNode"/>).
/// </summary>
/// <remarks>
/// Not a proxy of the region started on the leaving node itself: a proxy takes no message anywhere until the shard
/// coordinator has registered it, and the coordinator registers the regions and proxies of members that are up only. A
/// proxy that had not registered when its node began to leave (a node leaving within seconds of its start, or of the
/// coordinator's move), or that had to register again because the coordinator moved (its node left too), never did:
/// everything sent through it waited in its buffer, a callback's browser for a 504 after 35 s and its login for a code
/// that never came. The region on a member that is up is registered, and routes as every region does: to the entity's
/// node, this one's included while its shard has not moved yet.
/// </remarks>
internal sealed class RegionOnAnotherNode
{
    private readonly ActorSystem _system;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly IReadOnlyList<string> _regionPath;
    private readonly string? _role;

    /// <summary>
    /// Finds the region of <paramref name="typeName"/>, whose local instance is <paramref name="localRegion"/> (a region,
    /// or a proxy on a node without the role), on members with <paramref name="role"/> (null: every member).
    /// </summary>
    public RegionOnAnotherNode(ActorSystem system, IActorRef localRegion, string typeName, string? role)
    {
        _system = system;
        _cluster = Akka.Cluster.Cluster.Get(system);
        // A region is the sharding guardian's child named by its type name, on every node of the role. Not the local
        // instance's own path: on a node without the role it is a proxy, named "<type name>Proxy", which no node of the
        // role has (what was sent there went to dead letters).
        _regionPath = [.. localRegion.Path.Parent.Elements, Uri.EscapeDataString(typeName)];
        _role = role;
        _leaving = LeavingMembers.Get(system);
    }

    private readonly LeavingMembers _leaving;

    /// <summary>
    /// The region on the youngest other member that is up, reachable, of the role and not leaving itself
    /// (<see cref="LeavingMembers"/>), or null when there is none (this is the last such node).
    /// </summary>
    /// <remarks>
    /// The youngest: the member likeliest to stay. A rolling update replaces the oldest members first (a Deployment's
    /// old pods) or restarts each in turn (a StatefulSet's, each one the youngest once it is back), so the oldest other
    /// member is often the next to leave, and what it holds when its own region stops is lost.
    /// </remarks>
    public ActorSelection? Find()
    {
        var state = _cluster.State;
        var self = _cluster.SelfUniqueAddress;
        var member = state.Members
            .Where(m => m.Status == MemberStatus.Up && !m.UniqueAddress.Equals(self) && (string.IsNullOrEmpty(_role) || m.HasRole(_role))
                && !state.Unreachable.Contains(m) && !_leaving.Contains(m.UniqueAddress))
            .OrderBy(m => m, Member.AgeOrdering)
            .LastOrDefault();
        return member is null ? null : _system.ActorSelection(new RootActorPath(member.Address) / _regionPath);
    }
}
