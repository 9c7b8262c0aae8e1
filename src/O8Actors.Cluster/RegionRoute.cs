using Akka.Actor;

namespace O8Actors.Cluster;

/// <summary>
/// Where a gateway sends what belongs to one shard region: this node's region until the node leaves
/// (<see cref="ThroughAnotherNode"/>), then the same region on another member that is up, looked up at each send
/// (<see cref="RegionOnAnotherNode.Find"/>: the member may change while this node leaves). Owned by one actor.
/// </summary>
/// <param name="local">This node's region.</param>
/// <param name="elsewhere">Finds the region on another member that is up; null when there is none.</param>
internal sealed class RegionRoute(IActorRef local, Func<ICanTell?> elsewhere)
{
    private bool _leaving;

    /// <summary>This node leaves: from now on sends go to another node's region.</summary>
    public void Leave() => _leaving = true;

    /// <summary>Where to send now; null when this node leaves and no other member is up (this is the last node).</summary>
    public ICanTell? Now => _leaving ? elsewhere() : local;
}
