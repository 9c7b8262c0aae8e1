using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.TestSupport;
using Microsoft.AspNetCore.Hosting.Server;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace O8Actors.Cluster.Tests.Support;

/// <summary>
/// Three nodes on loopback (three actor systems, each its own Kestrel app with <c>MapOAuthCallback</c>) that form one
/// cluster from seed nodes in their configuration, and a
/// Yarp.ReverseProxy app in front of them with random load balancing: users only ever talk to the proxy, so begins and
/// callbacks land on random nodes.
/// </summary>
/// <remarks>
/// Seed nodes, not Akka.Management's cluster bootstrap with configuration-based discovery: Akka.Management 1.5.73 needs
/// Ceen.Httpd 0.9.9 for its HTTP endpoint, and the registry this is built from has only 0.9.10, which lacks a method it
/// calls (MissingMethodException at start; bootstrap then terminates the actor system).
/// </remarks>
public class ThreeNodesBehindProxy : IAsyncLifetime
{
    private readonly List<WebApplication> _nodes = [];
    private WebApplication? _proxy;

    public ClusterNodes Nodes { get; private set; } = null!;

    /// <summary>The proxy's root (https); the public callback is under it.</summary>
    public Uri Root { get; private set; } = null!;

    public IReadOnlyList<WebApplication> Apps => _nodes;

    /// <summary>The https port of each node, in the order of <see cref="Apps"/>.</summary>
    public IReadOnlyList<int> HttpsPorts { get; private set; } = [];

    /// <summary>The cluster's seed nodes (the three nodes' remoting addresses).</summary>
    public IReadOnlyList<string> Seeds { get; private set; } = [];

    /// <summary>
    /// Starts one more node that joins the cluster (not behind the proxy: the test talks to it at its own port) and adds it
    /// to <see cref="Apps"/>, which disposes it with the others. Returns it with its https port.
    /// </summary>
    public async Task<(WebApplication Node, int HttpsPort)> AddNodeAsync()
    {
        var https = ClusterNodes.FreePort();
        var remoting = ClusterNodes.FreePort();
        var node = await Nodes.StartNodeAsync("o8-cluster", https, akka =>
        {
            akka.WithRemoting("127.0.0.1", remoting).WithClustering(new ClusterOptions { SeedNodes = [.. Seeds] });
            if (ExtraHocon is { } hocon) akka.AddHocon(hocon, HoconAddMode.Prepend);
            ConfigureNode(akka);
        });
        _nodes.Add(node);
        return (node, https);
    }

    /// <summary>HOCON every node gets on top (a subclass tunes failure detection).</summary>
    protected virtual string? ExtraHocon => null;

    /// <summary>More for every node's actor system (a subclass adds the token store's persistence).</summary>
    protected virtual void ConfigureNode(AkkaConfigurationBuilder akka)
    {
    }

    public virtual async ValueTask InitializeAsync()
    {
        var proxyPort = ClusterNodes.FreePort();
        Root = new Uri($"https://127.0.0.1:{proxyPort}/");
        Nodes = await ClusterNodes.StartAsync(new Uri(Root, "/oauth/callback"));

        var https = Enumerable.Range(0, 3).Select(_ => ClusterNodes.FreePort()).ToArray();
        var remoting = Enumerable.Range(0, 3).Select(_ => ClusterNodes.FreePort()).ToArray();
        var seeds = remoting.Select(p => $"akka.tcp://o8-cluster@127.0.0.1:{p}").ToArray();
        Seeds = seeds;
        // Every node starts at once, as a deployment would: the first seed forms the cluster and the others join it.
        HttpsPorts = https;
        var starting = Enumerable.Range(0, 3).Select(i => Nodes.StartNodeAsync("o8-cluster", https[i], akka =>
        {
            akka.WithRemoting("127.0.0.1", remoting[i]).WithClustering(new ClusterOptions { SeedNodes = seeds });
            if (ExtraHocon is { } hocon) akka.AddHocon(hocon, HoconAddMode.Prepend);
            ConfigureNode(akka);
        })).ToList();
        _nodes.AddRange(await Task.WhenAll(starting));

        await Eventually.TrueAsync(() => _nodes.All(n => UpMembers(n) == 3), "all three nodes see a cluster of three Up members",
            TimeSpan.FromSeconds(60));

        _proxy = await StartProxyAsync(proxyPort, https);
    }

    /// <summary>Whether the proxy still sends requests to node <paramref name="index"/> (neither health check has taken it out).</summary>
    public bool ProxyRoutesTo(int index)
    {
        var lookup = _proxy!.Services.GetRequiredService<IProxyStateLookup>();
        if (!lookup.TryGetCluster("nodes", out var nodes)) return false;
        return nodes.DestinationsState.AvailableDestinations.Any(d => d.DestinationId == $"node{index}");
    }

    /// <summary>
    /// Kills node <paramref name="index"/> as a crash would: its Kestrel stops at once, dropping open connections, and its
    /// actor system stops without leaving the cluster (the host itself is disposed with the others). Kestrel first: a
    /// request that reaches the node then never meets an actor system that is gone.
    /// </summary>
    public async Task KillAsync(int index)
    {
        var node = _nodes[index];
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        await node.Services.GetRequiredService<IServer>().StopAsync(now.Token);
        await node.Services.GetRequiredService<ActorSystem>().Terminate();
    }

    private static int UpMembers(WebApplication node) =>
        Akka.Cluster.Cluster.Get(node.Services.GetRequiredService<ActorSystem>()).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);

    private async Task<WebApplication> StartProxyAsync(int port, int[] nodePorts)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var certificate = Nodes.Ca.IssueServerCertificate();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(certificate)));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var destinations = nodePorts.Select((p, i) => (Key: $"node{i}", Value: new DestinationConfig { Address = $"https://127.0.0.1:{p}/" }))
            .ToDictionary(d => d.Key, d => d.Value);
        builder.Services.AddReverseProxy()
            .LoadFromMemory(
                [new RouteConfig { RouteId = "all", ClusterId = "nodes", Match = new RouteMatch { Path = "{**catch-all}" } }],
                [new ClusterConfig
                {
                    ClusterId = "nodes", LoadBalancingPolicy = LoadBalancingPolicies.Random, Destinations = destinations,
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
            .ConfigureHttpClient((_, handler) => handler.SslOptions.RemoteCertificateValidationCallback = Nodes.Ca.CreateValidationCallback());
        var proxy = builder.Build();
        proxy.MapReverseProxy(pipeline =>
        {
            pipeline.Use(RetryOnAnotherNode.InvokeAsync);
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        await proxy.StartAsync(TestContext.Current.CancellationToken);
        return proxy;
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.StopAsync(CancellationToken.None);
            await _proxy.DisposeAsync();
        }

        await Task.WhenAll(_nodes.Select(async n =>
        {
            await n.StopAsync(CancellationToken.None);
            await n.DisposeAsync();
        }));
        if (Nodes is not null) await Nodes.DisposeAsync();
    }
}

/// <summary>
/// The same three nodes, tuned so that one can die abruptly in a test: terminating an actor system does not leave the
/// cluster first (no coordinated shutdown), failure detection is quick and the split brain resolver (keep-majority, from
/// the package's HOCON) downs an unreachable node after 2 s instead of 20 s.
/// </summary>
public sealed class ThreeNodesForNodeLoss : ThreeNodesBehindProxy
{
    protected override string? ExtraHocon => """
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.cluster.run-coordinated-shutdown-when-down = off
        akka.cluster.failure-detector.heartbeat-interval = 300ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 1500ms
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.remote.retry-gate-closed-for = 1s
        """;
}

/// <summary>
/// The same three nodes, with sharding's rebalancing quick (every second, up to 20 shards a round) so that a node that
/// joins takes its share of shards within seconds.
/// </summary>
public sealed class ThreeNodesThatGrow : ThreeNodesBehindProxy
{
    protected override string? ExtraHocon => """
        akka.cluster.sharding.rebalance-interval = 1s
        akka.cluster.sharding.least-shard-allocation-strategy.rebalance-absolute-limit = 20
        akka.cluster.sharding.least-shard-allocation-strategy.rebalance-relative-limit = 0.5
        """;
}

/// <summary>
/// The same three nodes with the accounts' tokens in a real PostgreSQL server (started for the fixture) through
/// O8Actors.Persistence, encrypted with the nodes' shared key ring: an account's entity that moves keeps its tokens.
/// </summary>
public sealed class ThreeNodesWithAccounts : ThreeNodesBehindProxy
{
    private readonly O8Actors.Persistence.Tests.Support.PostgresServer _postgres = new();
    private readonly string _database = "o8_cluster_" + Guid.NewGuid().ToString("N")[..8];

    public override async ValueTask InitializeAsync()
    {
        await _postgres.InitializeAsync();
        await _postgres.CreateDatabaseAsync(_database);
        await base.InitializeAsync();
    }

    protected override void ConfigureNode(AkkaConfigurationBuilder akka) =>
        O8Actors.Persistence.O8PersistenceHostingExtensions.WithOAuthAccountsPersistence(akka, o =>
        {
            o.Database = O8Actors.Persistence.O8PersistenceDatabase.PostgreSql;
            o.ConnectionString = _postgres.ConnectionString(_database);
            o.UseAppDataProtection = true;
        });

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _postgres.DisposeAsync();
    }
}
