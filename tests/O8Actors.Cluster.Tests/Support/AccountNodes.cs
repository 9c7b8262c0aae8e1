using System.Net;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Accounts;
using O8Actors.Hosting;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests.Support;

/// <summary>The steps the account tests take on a three-node cluster: sign in, remember an account, find its node.</summary>
internal sealed class AccountNodes(ThreeNodesBehindProxy cluster)
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    /// <summary>The nodes still in the cluster (a test may make one leave).</summary>
    public List<WebApplication> Alive() => cluster.Apps.Where(a =>
    {
        var system = a.Services.GetRequiredService<ActorSystem>();
        return system.WhenTerminated.IsCompleted is false
            && Akka.Cluster.Cluster.Get(system).SelfMember.Status == Akka.Cluster.MemberStatus.Up;
    }).ToList();

    public static IOAuthLogins Logins(WebApplication node) => node.Services.GetRequiredService<IOAuthLogins>();

    /// <summary>A real login at the sandbox (through the proxy), for a refresh token the sandbox knows.</summary>
    public async Task<TokenSet> SignInAsync(string user, CancellationToken ct)
    {
        // A node that left (a test may make one leave) answers no more; the proxy's health checks take it out, and a
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
    public static async Task RememberAsync(WebApplication node, OAuthAccount account, TokenSet tokens, CancellationToken ct)
    {
        var started = await node.Services.GetRequiredService<O8Runtime>().WhenStarted.WaitAsync(Wait, ct);
        await started.Actors.Accounts.Ask<LoginRemembered>(new RememberLogin(account, tokens), Wait, ct);
    }

    /// <summary>The index in <see cref="ThreeNodesBehindProxy.Apps"/> of the node running <paramref name="account"/>'s entity, if any.</summary>
    public Task<int?> HostOfAsync(OAuthAccount account, CancellationToken ct) => HostOfAsync<AccountShardRegionKey>(account.Id, ct);

    /// <summary>The index in <see cref="ThreeNodesBehindProxy.Apps"/> of the node running <paramref name="entityId"/> in the region of <typeparamref name="TRegionKey"/>, if any.</summary>
    public async Task<int?> HostOfAsync<TRegionKey>(string entityId, CancellationToken ct)
    {
        foreach (var node in Alive())
        {
            var region = node.Services.GetRequiredService<ActorRegistry>().Get<TRegionKey>();
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), ct);
            if (state.Shards.Any(s => s.EntityIds.Contains(entityId))) return cluster.Apps.ToList().IndexOf(node);
        }

        return null;
    }

    /// <summary>
    /// An account remembered with <paramref name="tokens"/> whose entity runs off the first node (the oldest, which keeps
    /// the shard coordinators), so that its node can leave; and that node's index.
    /// </summary>
    public async Task<(OAuthAccount Account, int Host)> RememberedOffTheFirstNodeAsync(string prefix, TokenSet tokens, CancellationToken ct)
    {
        for (var i = 0; i < 40; i++)
        {
            var account = new OAuthAccount("sandbox", $"{prefix}-{i}-" + Guid.NewGuid().ToString("N")[..6]);
            await RememberAsync(cluster.Apps[0], account, tokens, ct);
            if (await HostOfAsync(account, ct) is { } host and not 0) return (account, host);
        }

        throw new InvalidOperationException("No account's entity landed off the first node in 40 tries.");
    }

    /// <summary>
    /// A real sign-in's tokens (<see cref="SignInAsync"/>) remembered, already expired (the next request refreshes them on
    /// the node that runs the entity), as an account off the first node (<see cref="RememberedOffTheFirstNodeAsync"/>).
    /// </summary>
    public async Task<(TokenSet Tokens, OAuthAccount Account, int Host)> ExpiredAccountOffTheFirstNodeAsync(string user, CancellationToken ct)
    {
        var tokens = await SignInAsync(user, ct);
        var (account, host) = await RememberedOffTheFirstNodeAsync(user, tokens with { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1) }, ct);
        return (tokens, account, host);
    }

    /// <summary>Makes <paramref name="leaving"/> leave the cluster gracefully and waits until the others see it gone.</summary>
    public async Task LeaveAsync(WebApplication leaving, CancellationToken ct)
    {
        var others = cluster.Apps.Where(a => a != leaving && Alive().Contains(a)).ToList();
        await Akka.Cluster.Cluster.Get(leaving.Services.GetRequiredService<ActorSystem>()).LeaveAsync(ct);
        await Eventually.TrueAsync(() => others.All(n =>
                Akka.Cluster.Cluster.Get(n.Services.GetRequiredService<ActorSystem>()).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == others.Count),
            $"the {others.Count} other nodes see a cluster of {others.Count}", Wait);
    }
}
