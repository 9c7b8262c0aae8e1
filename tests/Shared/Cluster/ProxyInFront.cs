using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace O8Actors.TestSupport;

/// <summary>
/// The load balancer in front of a test cluster: a Yarp.ReverseProxy app on 127.0.0.1 over https with random load
/// balancing, so users who only ever talk to it have their begins and callbacks land on random nodes. Shared by the
/// cluster tests and the interop suite (linked source).
/// </summary>
public static class ProxyInFront
{
    private const string ClusterId = "nodes";

    /// <summary>
    /// Starts the proxy on <paramref name="port"/> in front of the nodes at <c>https://127.0.0.1:{nodePorts[i]}/</c>
    /// (destination <c>node{i}</c>), checking their certificates with <paramref name="validateNodes"/>.
    /// </summary>
    public static async Task<WebApplication> StartAsync(int port, X509Certificate2 certificate, IReadOnlyList<int> nodePorts,
        RemoteCertificateValidationCallback validateNodes, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(certificate)));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var destinations = nodePorts.Select((p, i) => (Key: $"node{i}", Value: new DestinationConfig { Address = $"https://127.0.0.1:{p}/" }))
            .ToDictionary(d => d.Key, d => d.Value);
        builder.Services.AddReverseProxy()
            .LoadFromMemory(
                [new RouteConfig { RouteId = "all", ClusterId = ClusterId, Match = new RouteMatch { Path = "{**catch-all}" } }],
                [new ClusterConfig
                {
                    ClusterId = ClusterId, LoadBalancingPolicy = LoadBalancingPolicies.Random, Destinations = destinations,
                    // What a deployment's balancer has: it probes each node's /healthz every second (two failures in a
                    // row take a node out), and a request that fails to reach a node takes it out at once (passive).
                    // A GET that gets no response from a node is sent again to another (RetryOnAnotherNode).
                    HealthCheck = new HealthCheckConfig
                    {
                        Active = new ActiveHealthCheckConfig
                        {
                            Enabled = true, Interval = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(1),
                            Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures, Path = "/healthz",
                        },
                        Passive = new PassiveHealthCheckConfig
                        {
                            Enabled = true, Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                            ReactivationPeriod = TimeSpan.FromSeconds(30),
                        },
                    },
                }])
            .ConfigureHttpClient((_, handler) => handler.SslOptions.RemoteCertificateValidationCallback = validateNodes);
        var proxy = builder.Build();
        proxy.MapReverseProxy(pipeline =>
        {
            pipeline.Use(RetryOnAnotherNode.InvokeAsync);
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        await proxy.StartAsync(cancellationToken);
        return proxy;
    }

    /// <summary>Whether <paramref name="proxy"/> still sends requests to node <paramref name="index"/> (neither health check has taken it out).</summary>
    public static bool RoutesTo(WebApplication proxy, int index)
    {
        var lookup = proxy.Services.GetRequiredService<IProxyStateLookup>();
        if (!lookup.TryGetCluster(ClusterId, out var nodes)) return false;
        return nodes.DestinationsState.AvailableDestinations.Any(d => d.DestinationId == $"node{index}");
    }

    /// <summary>Stops and disposes <paramref name="proxy"/>.</summary>
    public static async Task StopAsync(WebApplication? proxy)
    {
        if (proxy is null) return;
        await proxy.StopAsync(CancellationToken.None);
        await proxy.DisposeAsync();
    }
}
