using System.Net;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Accounts;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A node leaves (a rolling deploy) while a login on it exchanges its code, and another node asks meanwhile for an account
/// whose entity runs there, so that the account refreshes. Before, the accounts were handed off only once the logins had
/// finished: the accounts' region stayed live meanwhile, the refresh ran on the leaving node, the shutdown phase ended
/// mid-refresh, the store's region stopped, and the rotated refresh token was lost (the next refresh: invalid_grant).
/// Now the accounts are handed off at once (the refresh runs on the account's next node), and the login, finishing on
/// the leaving node, still stores its account there. Its own cluster (a short phase): the node it makes leave is gone for good.
/// </summary>
public sealed class LeaveDuringLoginAndRefreshTests(ThreeNodesWithAccountsLeavingQuickly cluster) : IClassFixture<ThreeNodesWithAccountsLeavingQuickly>
{
    private readonly AccountNodes _nodes = new(cluster);

    [Fact]
    public async Task A_refresh_asked_for_while_a_login_finishes_on_a_leaving_node_keeps_its_rotated_token_and_the_login_stores_its_account()
    {
        var ct = TestContext.Current.CancellationToken;
        // Expired already: the next request refreshes it, on the node that runs its entity.
        var (tokens, account, host) = await _nodes.ExpiredAccountOffTheFirstNodeAsync("refresher", ct);
        var leaving = cluster.Apps[host];
        var survivor = cluster.Apps[0];

        // A login begun on the first node whose entity runs on the account's node, remembered as an account of its own.
        var key = "mover-" + Guid.NewGuid().ToString("N")[..6];
        var (browser, login, _, tried) = await cluster.BeginLoginRunningOnAsync(i => $"user=mover&account={key}-{i}", n => n == host, ct);
        key = $"{key}-{tried}";
        using var user = browser;
        using var authorize = await user.GetAsync(login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        var beginner = cluster.HttpsPorts[0];
        var callback = new Uri($"https://127.0.0.1:{beginner}{authorize.Headers.Location!.PathAndQuery}");

        // The login's exchange ends 3 s before the 10 s phase does. The account is asked for 3 s into the leave, and its
        // refresh takes 8 s: started on the leaving node then (its accounts' region still live while the login finished),
        // it would still be under way when the phase ends; on any node it takes less than the phase.
        var phase = ThreeNodesWithAccountsLeavingQuickly.HandOffPhase;
        var loginDelay = phase - TimeSpan.FromSeconds(3);
        var askAfter = TimeSpan.FromSeconds(3);
        var refreshDelay = phase - TimeSpan.FromSeconds(2);
        cluster.Nodes.Sandbox.TokenFaults = TokenFaultPlan.PerLogin(request => request.LoginHint switch
        {
            "mover" => TokenFault.Delay(loginDelay),
            "refresher" => TokenFault.Delay(refreshDelay),
            _ => null,
        });
        var delayed = cluster.Nodes.Sandbox.Counters.Faults(TokenFaultKind.Delay);
        var landing = user.GetAsync(callback, ct);
        await Eventually.TrueAsync(() => cluster.Nodes.Sandbox.Counters.Faults(TokenFaultKind.Delay) > delayed,
            "the login's exchange reached the token endpoint, which holds it", AccountNodes.Wait);
        var leavingSystem = leaving.Services.GetRequiredService<ActorSystem>();
        var left = Akka.Cluster.Cluster.Get(leavingSystem).LeaveAsync(ct);
        await Eventually.TrueAsync(() => CoordinatedShutdown.Get(leavingSystem).ShutdownReason is not null, "the node began to leave", AccountNodes.Wait);

        // Asked from a node that stays, while the other leaves: the expired account refreshes.
        await Task.Delay(askAfter, ct);
        var renewal = AccountNodes.Logins(survivor).GetAccessTokenAsync(account, cancellationToken: ct);

        using var page = await landing.WaitAsync(AccountNodes.Wait, ct);
        var body = await page.Content.ReadAsStringAsync(ct);
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"HTTP {(int)page.StatusCode}: {body}");
        var outcome = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(AccountNodes.Wait, ct));
        var served = await renewal.WaitAsync(AccountNodes.Wait, ct);
        Assert.NotEqual(tokens.AccessToken, served.Token);
        await left.WaitAsync(AccountNodes.Wait, ct);
        await Eventually.TrueAsync(() => leavingSystem.WhenTerminated.IsCompleted, "the node that left stops", AccountNodes.Wait);
        cluster.Nodes.Sandbox.TokenFaults = null;

        // The node that takes the account over refreshes with the stored refresh token: had the rotated one been lost,
        // the database would hold the spent one, and this refresh would be refused (invalid_grant).
        var forced = await AccountNodes.Logins(survivor).GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true), cancellationToken: ct);
        Assert.NotEqual(served.Token, forced.Token);
        // And the login that finished on the leaving node stored its account, which the others serve.
        Assert.Equal(new OAuthAccount("sandbox", key), outcome.Account);
        var loginsToken = await AccountNodes.Logins(survivor).GetAccessTokenAsync(outcome.Account!, cancellationToken: ct);
        Assert.Equal(outcome.Tokens.AccessToken, loginsToken.Token);
    }
}
