using System.Net;
using System.Security.Cryptography.X509Certificates;

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

    /// <summary>
    /// Serves the contact point over HTTPS with this certificate (with its private key); null (default): plain HTTP.
    /// Akka.Management probes a contact point with the scheme of the node's own, so every node of a cluster uses TLS or
    /// none does; its prober checks the certificate against the machine's trust store, so the certificate must chain to a
    /// root every node trusts and name the host discovery lists (<see cref="AdvertisedHost"/>). With TLS, a machine on the
    /// cluster's network cannot pose as a contact point and hand a new node the seed nodes of a cluster of its own.
    /// </summary>
    public X509Certificate2? Certificate { get; set; }
}
