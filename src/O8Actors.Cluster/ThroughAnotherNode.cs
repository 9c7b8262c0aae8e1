namespace O8Actors.Cluster;

/// <summary>
/// This node leaves: from now on a gateway (<see cref="AccountGateway"/>, <see cref="ClusterLoginGateway"/>) sends what it
/// sent to its own shard region to the same region on another member that is up (<see cref="RegionOnAnotherNode"/>), as
/// its own region stops once its shards have moved (<see cref="HandOffAtLeave"/>) and a message sent to it afterwards is
/// lost. Answered with <see cref="Akka.Done"/>.
/// </summary>
internal sealed record ThroughAnotherNode
{
    private ThroughAnotherNode()
    {
    }

    /// <summary>The one instance.</summary>
    public static ThroughAnotherNode Instance { get; } = new();
}
