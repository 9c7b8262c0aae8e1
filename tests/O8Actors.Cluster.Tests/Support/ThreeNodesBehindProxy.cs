using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests.Support;

/// <summary>
/// Three nodes on loopback (three actor systems, each its own Kestrel app with <c>MapOAuthCallback</c>) that form one
/// cluster through Akka.Management's cluster bootstrap (configuration-based discovery of their contact points), and a
/// Yarp.ReverseProxy app in front of them with random load balancing: users only ever talk to the proxy, so begins and
/// callbacks land on random nodes.
/// </summary>
/// <remarks>Cluster formation: <see cref="ClusterFormation"/>.</remarks>
public class ThreeNodesBehindProxy : IAsyncLifetime
{
    private readonly List<WebApplication> _nodes = [];
    private WebApplication? _proxy;

    public ClusterNodes Nodes { get; private set; } = null!;

    /// <summary>The proxy's root (https); the public callback is under it.</summary>
    public Uri Root { get; private set; } = null!;

    public IReadOnlyList<WebApplication> Apps => _nodes;

    /// <summary>
    /// The provider whose ID tokens (and back-channel logout tokens) every node validates against the sandbox's keys:
    /// the sandbox again, under the name <c>sandbox-oidc</c>. The logins of these tests use <c>sandbox</c>, which
    /// validates none, so they remember no account.
    /// </summary>
    public const string OidcProvider = "sandbox-oidc";

    private Dictionary<string, string?> OidcProviderSettings => Nodes.OidcProviderSettings(OidcProvider);

    /// <summary>The https port of each node, in the order of <see cref="Apps"/>.</summary>
    public IReadOnlyList<int> HttpsPorts { get; private set; } = [];

    /// <summary>The ports of the three nodes' bootstrap contact points (what discovery lists).</summary>
    public IReadOnlyList<int> ContactPorts { get; private set; } = [];

    /// <summary>
    /// Starts one more node that joins the cluster (not behind the proxy: the test talks to it at its own port) and adds it
    /// to <see cref="Apps"/>, which disposes it with the others. Returns it with its https port.
    /// </summary>
    public async Task<(WebApplication Node, int HttpsPort)> AddNodeAsync()
    {
        var https = ClusterNodes.FreePort();
        var remoting = ClusterNodes.FreePort();
        var contact = ClusterNodes.FreePort();
        var node = await Nodes.StartNodeAsync("o8-cluster", https, akka =>
        {
            // Discovery lists the first three and this one; their contact points report the running cluster, which it joins.
            akka.WithRemoting("127.0.0.1", remoting).WithBootstrapOnLoopback([.. ContactPorts, contact], contact, requiredContactPoints: 3);
            if (ExtraHocon is { } hocon) akka.AddHocon(hocon, HoconAddMode.Prepend);
            ConfigureNode(akka);
        }, OidcProviderSettings);
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
        var contacts = Enumerable.Range(0, 3).Select(_ => ClusterNodes.FreePort()).ToArray();
        ContactPorts = contacts;
        // Every node starts at once, as a deployment would: once all three contact points answer, the node with the lowest
        // one forms the cluster and the others join it.
        HttpsPorts = https;
        var starting = Enumerable.Range(0, 3).Select(i => Nodes.StartNodeAsync("o8-cluster", https[i], akka =>
        {
            akka.WithRemoting("127.0.0.1", remoting[i]).WithBootstrapOnLoopback(contacts, contacts[i], requiredContactPoints: 3);
            if (ExtraHocon is { } hocon) akka.AddHocon(hocon, HoconAddMode.Prepend);
            ConfigureNode(akka);
        }, OidcProviderSettings)).ToList();
        _nodes.AddRange(await Task.WhenAll(starting));

        await ClusterFormation.WaitForUpAsync(_nodes, TimeSpan.FromSeconds(60));

        _proxy = await ProxyInFront.StartAsync(proxyPort, Nodes.Ca.IssueServerCertificate(), https, Nodes.Ca.CreateValidationCallback(),
            TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Begins logins on the first node (the oldest, which keeps the coordinators), each from a browser of its own with the
    /// <c>/connect/sandbox</c> query <paramref name="query"/> makes of its try's number, until one's entity runs on a node
    /// <paramref name="wanted"/> takes (by index in <see cref="Apps"/>): that browser, login, node and try.
    /// </summary>
    public async Task<(HttpClient Browser, PendingLogin Login, int Host, int Try)> BeginLoginRunningOnAsync(Func<int, string> query,
        Func<int, bool> wanted, CancellationToken ct)
    {
        for (var i = 0; i < 60; i++)
        {
            var browser = Nodes.Browser();
            using var connect = await browser.PostAsync(new Uri($"https://127.0.0.1:{HttpsPorts[0]}/connect/sandbox?{query(i)}"), null, ct);
            Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            var login = Nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
            Assert.True(LoginEntityIds.TryGetEntityId(ClusterNodes.StateOf(login.AuthorizeUrl), out var entityId));
            for (var n = 0; n < _nodes.Count; n++)
                if (wanted(n) && await RunsLoginAsync(_nodes[n], entityId, ct)) return (browser, login, n, i);
            browser.Dispose();
        }

        throw new InvalidOperationException("No login ran on a wanted node in 60 tries.");
    }

    private static async Task<bool> RunsLoginAsync(WebApplication node, string entityId, CancellationToken ct)
    {
        var region = node.Services.GetRequiredService<ActorRegistry>().Get<LoginShardRegionKey>();
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), ct);
        return state.Shards.Any(s => s.EntityIds.Contains(entityId));
    }

    /// <summary>Whether the proxy still sends requests to node <paramref name="index"/> (neither health check has taken it out).</summary>
    public bool ProxyRoutesTo(int index) => ProxyInFront.RoutesTo(_proxy!, index);

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

    public virtual async ValueTask DisposeAsync()
    {
        await ProxyInFront.StopAsync(_proxy);

        await ClusterShutdown.StopAllAsync(_nodes);
        if (Nodes is not null) await Nodes.DisposeAsync();
    }
}

/// <summary>
/// The same three nodes, tuned so that one can die abruptly in a test: terminating an actor system does not leave the
/// cluster first (no coordinated shutdown), failure detection is quick and the split brain resolver (keep-majority, from
/// the package's HOCON) downs an unreachable node after 4 s instead of 20 s. The heartbeat pause (3 s) still rides out
/// the stalls of one process running three nodes, a proxy and a browser's logins on a loaded 2-CPU machine: a live
/// node taken for dead would be downed.
/// </summary>
public class ThreeNodesForNodeLoss : ThreeNodesBehindProxy
{
    protected override string? ExtraHocon => """
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.cluster.run-coordinated-shutdown-when-down = off
        akka.cluster.failure-detector.heartbeat-interval = 300ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 3s
        akka.cluster.split-brain-resolver.stable-after = 4s
        akka.remote.retry-gate-closed-for = 1s
        """;
}

/// <summary>
/// The same quick failure detection, but the split brain resolver waits 10 s before it downs an unreachable node: long
/// enough for a test to see how the others treat a member that is still in the cluster but cannot answer.
/// </summary>
public sealed class ThreeNodesWithAnUnreachableMember : ThreeNodesForNodeLoss
{
    protected override string? ExtraHocon => base.ExtraHocon + "\nakka.cluster.split-brain-resolver.stable-after = 10s\n";
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
public class ThreeNodesWithAccounts : ThreeNodesBehindProxy
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

/// <summary>
/// The same three nodes with accounts, whose shutdown phase before the shard regions stop (<c>before-cluster-shutdown</c>)
/// lasts 10 s instead of the package's 120 s, so that a test sees it end within seconds. The package's reason holds at this
/// scale: a login's exchange and a refresh that each take well under 10 s finish within it.
/// </summary>
public sealed class ThreeNodesWithAccountsLeavingQuickly : ThreeNodesWithAccounts
{
    /// <summary>The phase's timeout the nodes get.</summary>
    public static readonly TimeSpan HandOffPhase = TimeSpan.FromSeconds(10);

    protected override string? ExtraHocon => $"akka.coordinated-shutdown.phases.before-cluster-shutdown.timeout = {HandOffPhase.TotalSeconds:0}s";
}
