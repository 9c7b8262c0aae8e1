using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Accounts;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A node that leaves the cluster (a rolling deploy) while one of its accounts refreshes: the provider has rotated the
/// refresh token, so the rotated one must reach the database before the node goes, or the account's next node refreshes
/// with a spent token and its user is signed out. Its own cluster: the node it makes leave is gone for good.
/// </summary>
public sealed class AccountRefreshOnLeaveTests(ThreeNodesWithAccounts cluster) : IClassFixture<ThreeNodesWithAccounts>
{
    private readonly AccountNodes _nodes = new(cluster);

    [Fact]
    public async Task A_node_that_leaves_during_a_refresh_stores_the_rotated_tokens_before_it_goes_and_another_node_refreshes_with_them()
    {
        var ct = TestContext.Current.CancellationToken;
        // Expired already: the next request refreshes it, on the node that runs its entity.
        var (tokens, account, host) = await _nodes.ExpiredAccountOffTheFirstNodeAsync("leaver", ct);
        var leaving = cluster.Apps[host];
        var survivor = cluster.Apps[0];

        // The token endpoint takes 3 s to answer the refresh, and the node is told to leave meanwhile.
        var delayed = cluster.Nodes.Sandbox.Counters.Faults(TokenFaultKind.Delay);
        cluster.Nodes.Sandbox.TokenFaults = new TokenFaultPlan(TokenFault.Delay(TimeSpan.FromSeconds(3)), share: 1);
        var renewal = AccountNodes.Logins(leaving).GetAccessTokenAsync(account, cancellationToken: ct);
        await Eventually.TrueAsync(() => cluster.Nodes.Sandbox.Counters.Faults(TokenFaultKind.Delay) > delayed,
            "the refresh reached the token endpoint, which holds it", AccountNodes.Wait);
        await _nodes.LeaveAsync(leaving, ct);
        cluster.Nodes.Sandbox.TokenFaults = null;
        await Eventually.TrueAsync(() => leaving.Services.GetRequiredService<ActorSystem>().WhenTerminated.IsCompleted, "the node that left stops",
            AccountNodes.Wait);
        _ = renewal.ContinueWith(t => t.Exception, TaskScheduler.Default); // its caller was on the node that left

        // Another node serves the refreshed token, and refreshes again with the rotated refresh token: had the node gone
        // before storing it, the database would hold the spent one, and this refresh would be refused (invalid_grant).
        var served = await AccountNodes.Logins(survivor).GetAccessTokenAsync(account, cancellationToken: ct);
        Assert.NotEqual(tokens.AccessToken, served.Token);
        var forced = await AccountNodes.Logins(survivor).GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true), cancellationToken: ct);
        Assert.NotEqual(served.Token, forced.Token);
    }
}
