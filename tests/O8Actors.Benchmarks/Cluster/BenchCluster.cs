using System.Collections.Concurrent;
using Akka.Cluster.Hosting;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster;
using O8Actors.Hosting;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Benchmarks.Cluster;

/// <summary>
/// The measured side of the cluster rows, in this process: one plain server-mode node (the baseline), or three nodes of
/// one cluster (three actor systems, Akka.Remote on loopback, logins as sharded entities), each its own Kestrel over
/// https with <c>MapOAuthCallback</c> and <c>POST /connect/sandbox</c>. Built from the tests' linked cluster parts.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    /// <summary>The response header of <c>/connect</c> naming the login it began (so the driver can match outcomes).</summary>
    public const string LoginIdHeader = "X-Login-Id";

    private readonly List<WebApplication> _nodes;
    private readonly SharedKeyRing _keyRing;

    private BenchCluster(List<WebApplication> nodes, SharedKeyRing keyRing, int[] ports, BenchRecords records)
    {
        _nodes = nodes;
        _keyRing = keyRing;
        Ports = ports;
        Records = records;
    }

    /// <summary>Each node's https port (node i at <c>https://127.0.0.1:{Ports[i]}/</c>).</summary>
    public IReadOnlyList<int> Ports { get; }

    /// <summary>Logins begun, and the node where each login ran.</summary>
    public BenchRecords Records { get; }

    /// <summary>Starts <paramref name="count"/> nodes (1: a plain server-mode node, no cluster) against <paramref name="sandbox"/>.</summary>
    public static async Task<BenchCluster> StartAsync(SandboxAuthorizationServer sandbox, DevelopmentCertificateAuthority ca, int count)
    {
        var https = Enumerable.Range(0, count).Select(_ => FreePorts.Next()).ToArray();
        var remoting = Enumerable.Range(0, count).Select(_ => FreePorts.Next()).ToArray();
        var contacts = Enumerable.Range(0, count).Select(_ => FreePorts.Next()).ToArray();
        var callback = new Uri($"https://127.0.0.1:{https[0]}/oauth/callback");
        var clientId = "bench-" + Guid.NewGuid().ToString("N");
        sandbox.RegisterClient(clientId, null, [callback + "/sandbox"], ClientAuthMethod.None);
        var keyRing = new SharedKeyRing("o8-bench");
        var records = new BenchRecords();
        var settings = new Dictionary<string, string?>
        {
            ["O8:Providers:sandbox:AuthorizationEndpoint"] = sandbox.AuthorizationEndpoint.ToString(),
            ["O8:Providers:sandbox:TokenEndpoint"] = sandbox.TokenEndpoint.ToString(),
            ["O8:Providers:sandbox:Issuer"] = sandbox.IssuerString,
            ["O8:Providers:sandbox:ClientId"] = clientId,
            ["O8:Providers:sandbox:ClientAuthentication"] = "None",
            ["O8:Providers:sandbox:DefaultScopes:0"] = "openid",
            // Every node announces node 0's callback; the driver sends each callback to the node it picks (a balancer's choice).
            ["O8:Listener:ExternalRedirectUri"] = callback.ToString(),
        };
        var nodes = (await Task.WhenAll(Enumerable.Range(0, count).Select(i => LoopbackClusterNode.StartAsync(new LoopbackNodeOptions
        {
            SystemName = "o8-bench",
            HttpsPort = https[i],
            Certificate = ca.IssueServerCertificate(),
            KeyRing = keyRing,
            Sharded = count > 1,
            Clustering = akka =>
            {
                if (count > 1) akka.WithRemoting("127.0.0.1", remoting[i]).WithBootstrapOnLoopback(contacts, contacts[i], requiredContactPoints: count);
            },
            Configure = builder =>
            {
                builder.Configuration.AddInMemoryCollection(settings);
                builder.Services.AddOAuthLogins();
                if (count > 1) builder.Services.AddSingleton<IClusterLoginOutcomeHandler>(new RecordingHandler(records, i));
            },
            Map = web => web.MapPost("/connect/{provider}", async (string provider, string user, HttpContext context, IOAuthConnector connector) =>
            {
                var login = await connector.BeginAsync(context, provider,
                    new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = user }));
                records.Began[login.LoginId] = login;
                if (count == 1) records.RanOn[login.LoginId] = 0;
                context.Response.Headers[LoginIdHeader] = login.LoginId;
                return Results.Redirect(login.AuthorizeUrl.ToString());
            }),
        }, CancellationToken.None)))).ToList();
        if (count > 1) await ClusterFormation.WaitForUpAsync(nodes, TimeSpan.FromSeconds(60));
        return new BenchCluster(nodes, keyRing, https, records);
    }

    private sealed class RecordingHandler(BenchRecords records, int node) : IClusterLoginOutcomeHandler
    {
        public Task HandleAsync(ClusterLoginEnded ended, CancellationToken cancellationToken)
        {
            records.RanOn[ended.LoginId] = node;
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var node in Enumerable.Reverse(_nodes))
        {
            await node.StopAsync(CancellationToken.None);
            await node.DisposeAsync();
        }

        _keyRing.Dispose();
    }
}

/// <summary>What the nodes saw: the logins begun (by login id) and the node each ran on (its outcome handler's node).</summary>
internal sealed class BenchRecords
{
    public ConcurrentDictionary<string, PendingLogin> Began { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> RanOn { get; } = new(StringComparer.Ordinal);
}
