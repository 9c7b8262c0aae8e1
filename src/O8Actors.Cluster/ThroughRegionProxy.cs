namespace O8Actors.Cluster;

/// <summary>
/// This node leaves: from now on a gateway (<see cref="AccountGateway"/>, <see cref="ClusterLoginGateway"/>) sends what it
/// sent to its shard region through a proxy of that region, as the region stops once its shards have moved
/// (<see cref="HandOffAtLeave"/>) and a message sent to it afterwards is lost. Answered with <see cref="Akka.Done"/>.
/// </summary>
internal sealed record ThroughRegionProxy
{
    private ThroughRegionProxy()
    {
    }

    /// <summary>The one instance.</summary>
    public static ThroughRegionProxy Instance { get; } = new();
}
