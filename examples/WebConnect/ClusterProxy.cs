using System.Security.Cryptography.X509Certificates;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// The demo's load balancer: YARP on the public address, random balancing over the nodes (so a provider's redirect
/// lands on any node, as it would behind a real balancer), active health checks on each node's <c>/healthz</c> and
/// passive ones on failed requests.
/// </summary>
internal static class ClusterProxy
{
    /// <summary>Adds the proxy's services to <paramref name="builder"/>; it forwards to <paramref name="nodes"/> (https roots).</summary>
    public static void AddServices(WebApplicationBuilder builder, IReadOnlyList<Uri> nodes, X509Certificate2 nodeCertificate)
    {
        var destinations = nodes.Select((uri, i) => (Key: $"node{i}", Value: new DestinationConfig { Address = uri.ToString() }))
            .ToDictionary(d => d.Key, d => d.Value);
        // YARP logs every health probe at Information.
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        builder.Services.AddReverseProxy()
            .LoadFromMemory(
                [new RouteConfig { RouteId = "all", ClusterId = "nodes", Match = new RouteMatch { Path = "{**catch-all}" } }],
                [new ClusterConfig
                {
                    ClusterId = "nodes", LoadBalancingPolicy = LoadBalancingPolicies.Random, Destinations = destinations,
                    HealthCheck = new HealthCheckConfig
                    {
                        Active = new ActiveHealthCheckConfig
                        {
                            Enabled = true, Interval = TimeSpan.FromSeconds(2), Timeout = TimeSpan.FromSeconds(2),
                            Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures, Path = "/healthz",
                        },
                        Passive = new PassiveHealthCheckConfig
                        {
                            Enabled = true, Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                            ReactivationPeriod = TimeSpan.FromSeconds(30),
                        },
                    },
                }])
            // The nodes serve the same certificate as the proxy (on 127.0.0.1): accept exactly that one.
            .ConfigureHttpClient((_, handler) => handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
                presented is not null && presented.GetCertHashString() == nodeCertificate.GetCertHashString());
    }
}
