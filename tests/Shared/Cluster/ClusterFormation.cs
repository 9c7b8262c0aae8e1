using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Discovery.Config.Hosting;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Bootstrap;

namespace O8Actors.TestSupport;

/// <summary>How a test cluster on loopback forms, and its membership.</summary>
/// <remarks>
/// Formation is Akka.Management's cluster bootstrap with configuration-based Akka.Discovery, as an app would run it: every
/// node lists the contact points of the nodes it may form with, the one with the lowest contact point forms the cluster
/// once all of them answer, and a later node joins through the seed nodes a contact point reports.
/// </remarks>
public static class ClusterFormation
{
    /// <summary>The discovery service name of the test clusters' contact points.</summary>
    public const string ServiceName = "o8-test-cluster";

    /// <summary>
    /// Clustering without seed nodes, formed by cluster bootstrap: discovery lists the contact points on 127.0.0.1 at
    /// <paramref name="contactPorts"/>, this node serves its own at <paramref name="ownContactPort"/>, and a new cluster
    /// forms once <paramref name="requiredContactPoints"/> of them answer. (<paramref name="autoStart"/>: only to test the
    /// refusal of Akka.Management's own start.) <paramref name="contactPoint"/> may change the contact point's options
    /// after its address is set (a certificate, for TLS).
    /// </summary>
    public static AkkaConfigurationBuilder WithBootstrapOnLoopback(this AkkaConfigurationBuilder akka, IReadOnlyCollection<int> contactPorts,
        int ownContactPort, int requiredContactPoints, ClusterOptions? clustering = null, bool autoStart = false,
        Action<ClusterBootstrapEndpointOptions>? contactPoint = null)
    {
        var endpoints = contactPorts.Select(p => $"127.0.0.1:{p}").ToArray();
        return akka
            .WithClustering(clustering ?? new ClusterOptions())
            .WithConfigDiscovery(d => d.Services.Add(new Service { Name = ServiceName, Endpoints = endpoints }))
            .WithClusterBootstrap(b =>
            {
                b.ContactPointDiscovery.ServiceName = ServiceName;
                b.ContactPointDiscovery.RequiredContactPointsNr = requiredContactPoints;
                // Akka's 5 s margin guards against a discovery answer still changing; a static list does not change.
                b.ContactPointDiscovery.StableMargin = TimeSpan.FromSeconds(1);
                b.ContactPointDiscovery.Interval = TimeSpan.FromMilliseconds(500);
                b.ContactPoint.ProbeInterval = TimeSpan.FromMilliseconds(500);
                // On one machine every contact point has a port of its own: keep them all, not only those on the
                // node's own (Akka.Management's "fallback") port.
                b.ContactPoint.FilterOnFallbackPort = false;
            }, autoStart)
            .WithClusterBootstrapOnKestrel(o =>
            {
                o.Listen = new IPEndPoint(IPAddress.Loopback, ownContactPort);
                contactPoint?.Invoke(o);
            });
    }

    /// <summary>How many members <paramref name="node"/> sees as Up.</summary>
    public static int UpMembers(WebApplication node) =>
        Akka.Cluster.Cluster.Get(node.Services.GetRequiredService<ActorSystem>()).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);

    /// <summary>Waits until every one of <paramref name="nodes"/> sees all of them Up.</summary>
    public static Task WaitForUpAsync(IReadOnlyCollection<WebApplication> nodes, TimeSpan within) =>
        Eventually.TrueAsync(() => nodes.All(n => UpMembers(n) == nodes.Count),
            $"all {nodes.Count} nodes see a cluster of {nodes.Count} Up members", within);
}
