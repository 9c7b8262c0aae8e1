using System.Net;

namespace O8Actors.Cluster.Bootstrap;

/// <summary>Where a node serves its cluster bootstrap contact point (see <see cref="O8ClusterBootstrapExtensions"/>).</summary>
public sealed class ClusterBootstrapEndpointOptions
{
    /// <summary>
    /// The address and port the contact point listens on: one the other nodes reach, on the cluster's private network
    /// (never the public side of the load balancer), with a port of its own (not 0). Required.
    /// </summary>
    public IPEndPoint? Listen { get; set; }

    /// <summary>
    /// The host the other nodes know this node's contact point by, as discovery lists it (bootstrap recognises itself among
    /// the discovered contact points by this host and the port). Null (default): <see cref="Listen"/>'s address.
    /// </summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>The port discovery lists for this node. Null (default): <see cref="Listen"/>'s port.</summary>
    public int? AdvertisedPort { get; set; }
}
