using Akka.Actor;
using Akka.Cluster.Sharding;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestKit;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Issue 13 in the cluster: accounts are entities of their own shard region, their tokens in PostgreSQL through
/// O8Actors.Persistence. One actor per account in the whole cluster keeps refreshes single-flight across nodes, and an
/// account whose entity moves to another node (its node leaves) keeps serving its token without a login.
/// </summary>
public sealed class AccountEntityTests(ThreeNodesWithAccounts cluster) : IClassFixture<ThreeNodesWithAccounts>
{
    private readonly AccountNodes _nodes = new(cluster);

    private List<WebApplication> Alive() => _nodes.Alive();

    private static IOAuthLogins Logins(WebApplication node) => AccountNodes.Logins(node);

    private Task<TokenSet> SignInAsync(string user, CancellationToken ct) => _nodes.SignInAsync(user, ct);

    private static Task RememberAsync(WebApplication node, OAuthAccount account, TokenSet tokens, CancellationToken ct) =>
        AccountNodes.RememberAsync(node, account, tokens, ct);

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

    /// <summary>
    /// The registers' shard coordinator keeps its state in Distributed Data, as the cluster's own regions do. Left to
    /// sharding's default (a persistent coordinator) it wrote to Akka's in-memory journal: when the oldest node left (every
    /// rolling deploy reaches it), the next coordinator recovered nothing and allocated again shards that live regions
    /// still hosted, so one account had two registers, two writers of one persistence id, one of them serving a spent
    /// refresh token.
    /// </summary>
    [Fact]
    public async Task The_token_registers_shard_coordinator_keeps_no_state_in_a_nodes_memory_journal()
    {
        var ct = TestContext.Current.CancellationToken;
        var tokens = await SignInAsync("coordinator", ct);
        // A register in use: its region's coordinator has started and allocated the shard.
        await _nodes.RememberedOffTheFirstNodeAsync("coordinator", tokens, ct);

        foreach (var node in Alive())
        {
            var system = node.Services.GetRequiredService<ActorSystem>();
            await Assert.ThrowsAsync<ActorNotFoundException>(() =>
                system.ActorSelection("/system/akka.persistence.journal.inmem").ResolveOne(TimeSpan.FromSeconds(3), ct));
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
        var (account, host) = await _nodes.RememberedOffTheFirstNodeAsync("mover", tokens, ct);
        // The tokens' registers are entities too (one writer per persistence id in the cluster), not one per node.
        Assert.Contains("o8-token-registers", ClusterSharding.Get(first.Services.GetRequiredService<ActorSystem>()).ShardTypeNames);
        foreach (var node in Alive())
            Assert.Equal(tokens.AccessToken, (await Logins(node).GetAccessTokenAsync(account, cancellationToken: ct)).Token);
        var authorizeRequests = cluster.Nodes.Sandbox.Counters.AuthorizeRequests;
        var tokenRequests = cluster.Nodes.Sandbox.Counters.TokenRequests;

        // Its node leaves the cluster gracefully: its shards (the account's among them) are handed over to the others.
        var leaving = cluster.Apps[host];
        var others = Alive().Where(a => a != leaving).ToList();
        await _nodes.LeaveAsync(leaving, ct);

        foreach (var node in others)
            Assert.Equal(tokens.AccessToken, (await Logins(node).GetAccessTokenAsync(account, cancellationToken: ct)).Token);
        var now = await _nodes.HostOfAsync(account, ct);
        Assert.NotNull(now);
        Assert.NotEqual(host, now);
        // No login and no refresh: the entity on its new node read the tokens the old one stored.
        Assert.Equal(authorizeRequests, cluster.Nodes.Sandbox.Counters.AuthorizeRequests);
        Assert.Equal(tokenRequests, cluster.Nodes.Sandbox.Counters.TokenRequests);
    }

    [Fact]
    public async Task A_caller_that_cancels_on_another_node_has_the_accounts_interactive_login_cancelled_where_it_runs()
    {
        var ct = TestContext.Current.CancellationToken;
        var account = new OAuthAccount("sandbox", "walks-away-" + Guid.NewGuid().ToString("N")[..6]);
        // A silent request places the account's entity (no tokens are stored: it has nothing to serve).
        await Assert.ThrowsAsync<InteractionRequiredException>(() =>
            Logins(Alive()[0]).GetAccessTokenAsync(account, cancellationToken: ct).WaitAsync(AccountNodes.Wait, ct));
        var hostIndex = await _nodes.HostOfAsync(account, ct);
        Assert.NotNull(hostIndex);
        var host = cluster.Apps[hostIndex.Value];
        var caller = Alive().First(node => node != host);
        var events = new LoginEventRecorder();
        using var subscription = Logins(host).Events.Subscribe(events);

        // A device login whose user never answers: left to itself it polls the provider until its deadline, minutes away.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var login = new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "hang-" + account.Key },
            Timeout: TimeSpan.FromMinutes(5)) { Method = LoginMethod.Device };
        var waiting = Logins(caller).GetAccessTokenAsync(account, options: new AccessTokenOptions(AllowInteraction: true, Login: login),
            cancellationToken: cancel.Token);
        var issued = await events.WaitForAsync<DeviceCodeIssuedEvent>(timeout: AccountNodes.Wait, cancellationToken: ct);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        // Its only caller gave up, on another node: the login ends where the account runs, as it would for a caller there.
        var ended = await events.WaitForAsync<LoginEndedEvent>(e => e.LoginId == issued.LoginId, TimeSpan.FromSeconds(30), ct);
        Assert.Equal(LoginOutcomeKind.Cancelled, ended.Outcome);
    }
}
