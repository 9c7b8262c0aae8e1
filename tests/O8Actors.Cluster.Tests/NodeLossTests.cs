using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Issue 12, node loss: logins are waiting on all three nodes when one node dies abruptly. The callers of the logins
/// that ran there get Failed(NodeLost) within a bounded time (the node's removal by the split brain resolver), their
/// late callbacks get the expired page from the surviving nodes, and every other login still signs in.
/// </summary>
public sealed class NodeLossTests(ThreeNodesForNodeLoss cluster) : IClassFixture<ThreeNodesForNodeLoss>
{
    private sealed record Waiting(HttpClient Browser, PendingLogin Login, string BeganOn, string EntityId);

    private static async Task<IReadOnlySet<string>> EntityIdsAsync(WebApplication node, CancellationToken ct)
    {
        var region = node.Services.GetRequiredService<ActorRegistry>().Get<LoginShardRegionKey>();
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), ct);
        return state.Shards.SelectMany(s => s.EntityIds).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The callback URL the provider sent, pointed at a surviving node instead of the proxy (the dead node is still in its pool).</summary>
    private Uri OnNode(Uri callback, int port) => new UriBuilder(callback) { Port = port }.Uri;

    [Fact]
    public async Task Logins_on_a_node_that_dies_end_as_NodeLost_in_bounded_time_and_all_others_still_sign_in()
    {
        var ct = TestContext.Current.CancellationToken;
        var waiting = new List<Waiting>();
        try
        {
            for (var i = 0; i < 45; i++)
            {
                var browser = cluster.Nodes.Browser();
                using var connect = await browser.PostAsync(new Uri(cluster.Root, $"/connect/sandbox?user=user{i}"), null, ct);
                Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
                var login = cluster.Nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
                Assert.True(LoginEntityIds.TryGetEntityId(ClusterNodes.StateOf(login.AuthorizeUrl), out var entityId));
                waiting.Add(new Waiting(browser, login, connect.Headers.GetValues(ClusterNodes.NodeHeader).Single(), entityId));
            }

            // The victim is the last node to have joined (the oldest keeps the shard coordinator).
            var victim = cluster.Apps[2];
            var victimName = $"o8-cluster:{cluster.HttpsPorts[2]}";
            var survivorPort = cluster.HttpsPorts[0];
            var onVictim = await EntityIdsAsync(victim, ct);
            var callersAlive = waiting.Where(w => w.BeganOn != victimName).ToList();
            var lost = callersAlive.Where(w => onVictim.Contains(w.EntityId)).ToList();
            var kept = callersAlive.Where(w => !onVictim.Contains(w.EntityId)).ToList();
            Assert.NotEmpty(lost);
            Assert.NotEmpty(kept);

            // Abruptly: the actor system stops without leaving the cluster; the others see it unreachable and down it.
            var clock = Stopwatch.StartNew();
            await victim.Services.GetRequiredService<ActorSystem>().Terminate();

            foreach (var w in lost)
            {
                var outcome = await w.Login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct);
                Assert.Equal(LoginFailure.NodeLost, Assert.IsType<LoginFailed>(outcome).Failure);
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"NodeLost took {clock.Elapsed}");
            // Their node died before they ended: no node ran an outcome handler for them.
            Assert.All(lost, w => Assert.False(cluster.Nodes.Handled.ContainsKey(w.Login.LoginId)));

            // Every login whose node survived signs in, its callback landing on a surviving node.
            foreach (var w in kept)
            {
                using var authorize = await w.Browser.GetAsync(w.Login.AuthorizeUrl, ct);
                Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
                using var landing = await w.Browser.GetAsync(OnNode(authorize.Headers.Location!, survivorPort), ct);
                Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
                Assert.IsType<LoginSucceeded>(await w.Login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct));
            }

            // A lost login's late callback finds no login on any surviving node: the expired page, no exchange.
            var late = lost[0];
            var tokenRequests = cluster.Nodes.Sandbox.Counters.TokenRequests;
            using var lateAuthorize = await late.Browser.GetAsync(late.Login.AuthorizeUrl, ct);
            using var lateLanding = await late.Browser.GetAsync(OnNode(lateAuthorize.Headers.Location!, survivorPort), ct);
            Assert.Equal(HttpStatusCode.BadRequest, lateLanding.StatusCode);
            Assert.Contains("expired or is unknown", await lateLanding.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            Assert.Equal(tokenRequests, cluster.Nodes.Sandbox.Counters.TokenRequests);
        }
        finally
        {
            foreach (var w in waiting) w.Browser.Dispose();
        }
    }
}
