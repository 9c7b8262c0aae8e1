using System.Net;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>Issue 12: a fourth node that joins a running cluster takes shards and serves new logins.</summary>
public sealed class NodeJoinTests(ThreeNodesThatGrow cluster) : IClassFixture<ThreeNodesThatGrow>
{
    private static async Task<CurrentShardRegionState> RegionStateAsync(WebApplication node, CancellationToken ct)
    {
        var region = node.Services.GetRequiredService<ActorRegistry>().Get<LoginShardRegionKey>();
        return await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), ct);
    }

    [Fact]
    public async Task A_fourth_node_that_joins_takes_shards_and_serves_new_logins()
    {
        var ct = TestContext.Current.CancellationToken;
        // Every shard is in use before the newcomer arrives: logins through the proxy touch them on the three nodes.
        for (var i = 0; i < 30; i++)
        {
            using var browser = cluster.Nodes.Browser();
            using var connect = await browser.PostAsync(new Uri(cluster.Root, $"/connect/sandbox?user=early{i}"), null, ct);
            Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            using var authorize = await browser.GetAsync(connect.Headers.Location, ct);
            using var landing = await browser.GetAsync(authorize.Headers.Location, ct);
            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        }

        var (fourth, port) = await cluster.AddNodeAsync();
        var system = fourth.Services.GetRequiredService<ActorSystem>();
        await Eventually.TrueAsync(() => Akka.Cluster.Cluster.Get(system).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == 4,
            "the fourth node is Up in a cluster of four", TimeSpan.FromSeconds(60));

        // Rebalancing hands it shards; wait until its share has stopped growing (no shard is moving while logins wait).
        var shards = 0;
        var stableSince = DateTime.UtcNow;
        await Eventually.AssertAsync(async () =>
        {
            var now = (await RegionStateAsync(fourth, ct)).Shards.Count;
            if (now != shards)
            {
                shards = now;
                stableSince = DateTime.UtcNow;
            }

            Assert.True(shards >= 1 && DateTime.UtcNow - stableSince > TimeSpan.FromSeconds(3), $"the fourth node holds {shards} shards");
        }, TimeSpan.FromSeconds(60));

        // New logins begun on the fourth node sign in; some of them run on it (their entities are in its shards).
        var ranThere = 0;
        for (var i = 0; i < 40; i++)
        {
            using var browser = cluster.Nodes.Browser();
            using var connect = await browser.PostAsync(new Uri($"https://127.0.0.1:{port}/connect/sandbox?user=late{i}"), null, ct);
            Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            Assert.Equal($"o8-cluster:{port}", connect.Headers.GetValues(ClusterNodes.NodeHeader).Single());
            var login = cluster.Nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
            Assert.True(LoginEntityIds.TryGetEntityId(ClusterNodes.StateOf(login.AuthorizeUrl), out var entityId));
            if ((await RegionStateAsync(fourth, ct)).Shards.Any(s => s.EntityIds.Contains(entityId))) ranThere++;

            using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
            using var landing = await browser.GetAsync(authorize.Headers.Location, ct); // through the proxy: any of the first three
            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
            Assert.Equal($"late{i}", ClusterNodes.Subject(Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct)).Tokens.IdToken!));
        }

        Assert.True(ranThere > 0, "some logins ran on the fourth node");
    }
}
