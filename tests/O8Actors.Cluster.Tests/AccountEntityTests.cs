using System.Net;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Accounts;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Issue 13 in the cluster: accounts are entities of their own shard region, their tokens in PostgreSQL through
/// O8Actors.Persistence. One actor per account in the whole cluster keeps refreshes single-flight across nodes, and an
/// account whose entity moves to another node (its node leaves) keeps serving its token without a login.
/// </summary>
public sealed class AccountEntityTests(ThreeNodesWithAccounts cluster) : IClassFixture<ThreeNodesWithAccounts>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    /// <summary>The nodes still in the cluster (a test may make one leave).</summary>
    private List<WebApplication> Alive() => cluster.Apps.Where(a =>
    {
        var system = a.Services.GetRequiredService<ActorSystem>();
        return system.WhenTerminated.IsCompleted is false
            && Akka.Cluster.Cluster.Get(system).SelfMember.Status == Akka.Cluster.MemberStatus.Up;
    }).ToList();

    private static IOAuthLogins Logins(WebApplication node) => node.Services.GetRequiredService<IOAuthLogins>();

    /// <summary>A real login at the sandbox (through the proxy), for a refresh token the sandbox knows.</summary>
    private async Task<TokenSet> SignInAsync(string user, CancellationToken ct)
    {
        // A node that left (another test makes one leave) answers no more; the proxy's health checks take it out, and a
        // sign-in through the proxy waits for that, as a user would retry.
        var alive = Alive();
        await Eventually.TrueAsync(() => cluster.Apps.Select((app, index) => (app, index))
            .Where(n => !alive.Contains(n.app)).All(n => !cluster.ProxyRoutesTo(n.index)), "the proxy stops routing to nodes that left", Wait);
        using var browser = cluster.Nodes.Browser();
        using var connect = await browser.PostAsync(new Uri(cluster.Root, $"/connect/sandbox?user={user}"), null, ct);
        Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
        var login = cluster.Nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
        using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
        using var landing = await browser.GetAsync(authorize.Headers.Location, ct);
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        var tokens = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct)).Tokens;
        Assert.NotNull(tokens.RefreshToken);
        return tokens;
    }

    /// <summary>Stores <paramref name="tokens"/> as <paramref name="account"/>'s, as a finished login does, sent from <paramref name="node"/>.</summary>
    private static async Task RememberAsync(WebApplication node, OAuthAccount account, TokenSet tokens, CancellationToken ct)
    {
        var started = await node.Services.GetRequiredService<O8Runtime>().WhenStarted.WaitAsync(Wait, ct);
        await started.Actors.Accounts.Ask<LoginRemembered>(new RememberLogin(account, tokens), Wait, ct);
    }

    /// <summary>The index in <see cref="ThreeNodesBehindProxy.Apps"/> of the node running <paramref name="account"/>'s entity, if any.</summary>
    private async Task<int?> HostOfAsync(OAuthAccount account, CancellationToken ct)
    {
        foreach (var node in Alive())
        {
            var region = node.Services.GetRequiredService<ActorRegistry>().Get<AccountShardRegionKey>();
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), ct);
            if (state.Shards.Any(s => s.EntityIds.Contains(account.Id))) return cluster.Apps.ToList().IndexOf(node);
        }

        return null;
    }

    [Fact]
    public async Task An_account_with_no_tokens_gets_InteractionRequiredException_on_every_node()
    {
        var ct = TestContext.Current.CancellationToken;
        var nobody = new OAuthAccount("sandbox", "nobody-" + Guid.NewGuid().ToString("N")[..6]);

        // The entity runs on one node; the others get its failure across the network.
        foreach (var node in Alive())
        {
            var error = await Assert.ThrowsAsync<InteractionRequiredException>(() =>
                Logins(node).GetAccessTokenAsync(nobody, cancellationToken: ct).WaitAsync(TimeSpan.FromSeconds(30), ct));
            Assert.Equal(InteractionReason.NoAccount, error.Reason);
            Assert.Equal(nobody, error.Account);
        }
    }

    [Fact]
    public async Task A_hundred_callers_spread_over_the_nodes_cause_one_refresh_for_an_expired_token()
    {
        var ct = TestContext.Current.CancellationToken;
        var nodes = Alive();
        Assert.True(nodes.Count >= 2);
        var tokens = await SignInAsync("single-flight", ct);
        var account = new OAuthAccount("sandbox", "single-flight-" + Guid.NewGuid().ToString("N")[..6]);
        // Expired already: the first request must refresh it.
        await RememberAsync(nodes[0], account, tokens with { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1) }, ct);
        var refreshes = cluster.Nodes.Sandbox.Counters.Refreshes;

        var served = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            Task.Run(() => Logins(nodes[i % nodes.Count]).GetAccessTokenAsync(account, cancellationToken: ct), ct)));

        Assert.Equal(refreshes + 1, cluster.Nodes.Sandbox.Counters.Refreshes);
        var token = Assert.Single(served.Select(s => s.Token).Distinct());
        Assert.NotEqual(tokens.AccessToken, token);
    }

    [Fact]
    public async Task An_accounts_entity_that_moves_to_another_node_keeps_serving_its_token_without_a_login()
    {
        var ct = TestContext.Current.CancellationToken;
        var tokens = await SignInAsync("mover", ct);
        var first = cluster.Apps[0];

        // An account whose entity does not run on the first node (the oldest, which keeps the shard coordinators).
        OAuthAccount? account = null;
        int? host = null;
        for (var i = 0; i < 40 && host is not (1 or 2); i++)
        {
            account = new OAuthAccount("sandbox", $"mover-{i}-" + Guid.NewGuid().ToString("N")[..6]);
            await RememberAsync(first, account, tokens, ct);
            host = await HostOfAsync(account, ct);
        }

        Assert.True(host is 1 or 2, "an account's entity runs on the second or third node");
        // The tokens' registers are entities too (one writer per persistence id in the cluster), not one per node.
        Assert.Contains("o8-token-registers", ClusterSharding.Get(first.Services.GetRequiredService<ActorSystem>()).ShardTypeNames);
        foreach (var node in Alive())
            Assert.Equal(tokens.AccessToken, (await Logins(node).GetAccessTokenAsync(account!, cancellationToken: ct)).Token);
        var authorizeRequests = cluster.Nodes.Sandbox.Counters.AuthorizeRequests;
        var tokenRequests = cluster.Nodes.Sandbox.Counters.TokenRequests;

        // Its node leaves the cluster gracefully: its shards (the account's among them) are handed over to the others.
        var leaving = cluster.Apps[host!.Value];
        await Akka.Cluster.Cluster.Get(leaving.Services.GetRequiredService<ActorSystem>()).LeaveAsync(ct);
        var others = cluster.Apps.Where(a => a != leaving).ToList();
        await Eventually.TrueAsync(() => others.All(n =>
                Akka.Cluster.Cluster.Get(n.Services.GetRequiredService<ActorSystem>()).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == 2),
            "the two other nodes see a cluster of two", TimeSpan.FromSeconds(60));

        foreach (var node in others)
            Assert.Equal(tokens.AccessToken, (await Logins(node).GetAccessTokenAsync(account!, cancellationToken: ct)).Token);
        var now = await HostOfAsync(account!, ct);
        Assert.NotNull(now);
        Assert.NotEqual(host, now);
        // No login and no refresh: the entity on its new node read the tokens the old one stored.
        Assert.Equal(authorizeRequests, cluster.Nodes.Sandbox.Counters.AuthorizeRequests);
        Assert.Equal(tokenRequests, cluster.Nodes.Sandbox.Counters.TokenRequests);
    }
}
