using System.Collections.Concurrent;
using System.Net;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Issue 12's proof, first part: three nodes behind a reverse proxy with random load balancing, users with their own
/// cookie jars who only talk to the proxy. Logins are begun on random nodes, their callbacks land on random nodes, and
/// every login ends in exactly one outcome, the one its user's script asked for (approve or deny), on the node that began it.
/// </summary>
public sealed class ThreeNodeClusterTests(ThreeNodesBehindProxy cluster) : IClassFixture<ThreeNodesBehindProxy>
{
    private sealed record Run(string User, bool Approve, PendingLogin Login, string BeganOn, string CallbackOn, HttpStatusCode Page);

    /// <summary>One user: POST /connect through the proxy, the sandbox decides, the browser follows back to the callback.</summary>
    private async Task<Run> SignInAsync(int index, CancellationToken ct)
    {
        var approve = index % 5 != 0;
        var user = approve ? $"user{index}" : $"deny-{index}";
        using var browser = cluster.Nodes.Browser();
        using var connect = await browser.PostAsync(new Uri(cluster.Root, $"/connect/sandbox?user={user}"), null, ct);
        Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
        var beganOn = connect.Headers.GetValues(ClusterNodes.NodeHeader).Single();
        var authorizeUrl = connect.Headers.Location!;
        var login = cluster.Nodes.Logins.Values.Single(l => l.AuthorizeUrl == authorizeUrl);

        using var authorize = await browser.GetAsync(authorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        using var landing = await browser.GetAsync(authorize.Headers.Location, ct);
        return new Run(user, approve, login, beganOn, landing.Headers.GetValues(ClusterNodes.NodeHeader).Single(), landing.StatusCode);
    }

    /// <summary>Each node, in turn, gets a GET of its <paramref name="pathAndQuery"/> from a fresh browser; the statuses, in node order.</summary>
    private async Task<HttpStatusCode[]> GetOnEveryNodeAsync(Func<int, string> pathAndQuery, CancellationToken ct)
    {
        var statuses = new HttpStatusCode[cluster.HttpsPorts.Count];
        for (var node = 0; node < statuses.Length; node++)
        {
            using var browser = cluster.Nodes.Browser();
            using var response = await browser.GetAsync(new Uri($"https://127.0.0.1:{cluster.HttpsPorts[node]}{pathAndQuery(node)}"), ct);
            statuses[node] = response.StatusCode;
        }

        return statuses;
    }

    private async Task RunAsync(int count, int concurrency)
    {
        var ct = TestContext.Current.CancellationToken;
        var before = cluster.Nodes.Logins.Count;
        var runs = new ConcurrentBag<Run>();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (i, token) => runs.Add(await SignInAsync(i, token)));

        Assert.Equal(count, runs.Count);
        Assert.Equal(before + count, cluster.Nodes.Logins.Count);
        Assert.Equal(count, runs.Select(r => r.Login.LoginId).Distinct().Count());
        foreach (var run in runs)
        {
            // Completed on the beginning node, exactly once (a Task completes once), with what the script asked for.
            var outcome = await run.Login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.Equal(run.Login.LoginId, outcome.LoginId);
            if (run.Approve)
            {
                Assert.Equal(HttpStatusCode.OK, run.Page);
                Assert.Equal(run.User, ClusterNodes.Subject(Assert.IsType<LoginSucceeded>(outcome).Tokens.IdToken!));
            }
            else
            {
                Assert.Equal(HttpStatusCode.Forbidden, run.Page);
                Assert.Equal("access_denied", Assert.IsType<LoginDenied>(outcome).Error);
            }
        }

        // The outcome handler ran once per login, on one node, with the same outcome.
        foreach (var run in runs)
        {
            var loginId = run.Login.LoginId;
            await O8Actors.TestSupport.Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(loginId), $"login {loginId}'s handler ran");
            var handled = Assert.Single(cluster.Nodes.Handled[loginId]);
            Assert.Equal((await run.Login.Outcome).Kind, handled.Ended.Outcome.Kind);
        }

        // The proxy really spread the work: begins and callbacks on all three nodes, and many callbacks on a node other
        // than the one that began their login.
        Assert.Equal(3, runs.Select(r => r.BeganOn).Distinct().Count());
        Assert.True(runs.Select(r => r.CallbackOn).Distinct().Count() == 3,
            "callbacks by node: " + string.Join(", ", runs.GroupBy(r => r.CallbackOn).Select(g => $"{g.Key}={g.Count()}")));
        Assert.True(runs.Count(r => r.BeganOn != r.CallbackOn) > count / 3, "callbacks landed on other nodes than their begin");
    }

    [Fact]
    public Task A_hundred_logins_begun_on_random_nodes_each_end_in_their_one_matching_outcome() => RunAsync(100, 16);

    [Fact]
    public Task A_thousand_logins_begun_on_random_nodes_each_end_in_their_one_matching_outcome() => RunAsync(1000, 32);

    [Fact]
    public async Task A_sign_outs_return_that_lands_on_another_node_reaches_the_node_that_began_it()
    {
        var ct = TestContext.Current.CancellationToken;
        using var rejected = new O8Actors.TestSupport.CounterRecorder("o8.callbacks.rejected");
        for (var began = 0; began < 3; began++)
        {
            var landsOn = (began + 1) % 3;
            using var browser = cluster.Nodes.Browser();
            var connector = cluster.Apps[began].Services.GetRequiredService<IOAuthConnector>();
            var signOut = await connector.BeginSignOutAsync(new OAuthAccount("sandbox", $"gone-{began}"), cancellationToken: ct)
                .WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.NotNull(signOut.EndSessionUrl);
            using var atProvider = await browser.GetAsync(signOut.EndSessionUrl, ct);
            Assert.Equal(HttpStatusCode.Found, atProvider.StatusCode);

            // The provider's redirect, sent to a node other than the one that began the sign-out.
            var back = new Uri($"https://127.0.0.1:{cluster.HttpsPorts[landsOn]}{atProvider.Headers.Location!.PathAndQuery}");
            using var page = await browser.GetAsync(back, ct);

            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            // Answered by that node (its name ends with its https port), with the sign-out's page from the node that began it.
            Assert.EndsWith($":{cluster.HttpsPorts[landsOn]}", page.Headers.GetValues(ClusterNodes.NodeHeader).Single(), StringComparison.Ordinal);
            var result = await signOut.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.Equal(ProviderSessionOutcome.Ended, result.ProviderSession);
            Assert.Equal(RevocationOutcome.NothingToRevoke, result.Revocation);
        }

        // Each was found on another node, so none is a rejected callback (before: each counted by the node it landed on).
        Assert.Empty(rejected.Measurements);

        // A return nobody waits for is the 400 it always was, counted once: a stray state by the node it lands on alone,
        // a state shaped like a sign-out's after every node was asked.
        using var stray = await cluster.Nodes.Browser().GetAsync(new Uri(cluster.Root, "/oauth/callback/sandbox?state=nobody-waits-for-this"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, stray.StatusCode);
        using var unknown = await cluster.Nodes.Browser().GetAsync(
            new Uri($"https://127.0.0.1:{cluster.HttpsPorts[0]}/oauth/callback/sandbox?state={O8Actors.Flows.FlowSecrets.RandomToken(32)}"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(["1 reason=missing_code_and_error", "1 reason=missing_code_and_error"], rejected.Measurements);
    }

    [Fact]
    public async Task A_replayed_login_callback_is_counted_as_rejected_once_whichever_node_it_lands_on()
    {
        var ct = TestContext.Current.CancellationToken;
        var run = await SignInAsync(1, ct);
        Assert.IsType<LoginSucceeded>(await run.Login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct));
        var state = ClusterNodes.StateOf(run.Login.AuthorizeUrl);
        using var rejected = new O8Actors.TestSupport.CounterRecorder("o8.callbacks.rejected");

        // The attacker replays the spent state and code on every node: its entity is gone, a fresh one answers and stops.
        Assert.All(await GetOnEveryNodeAsync(_ => $"/oauth/callback/sandbox?state={Uri.EscapeDataString(state)}&code=replayed", ct),
            status => Assert.Equal(HttpStatusCode.BadRequest, status));

        // Once each, with the single node's reason for a state it does not hold (before: not counted at all).
        Assert.Equal(["1 reason=unknown_state", "1 reason=unknown_state", "1 reason=unknown_state"], rejected.Measurements);
    }

    [Fact]
    public async Task A_logout_token_accepted_on_one_node_is_refused_as_a_replay_on_every_other_node()
    {
        var ct = TestContext.Current.CancellationToken;
        var token = cluster.Nodes.Sandbox.CreateLogoutToken(cluster.Nodes.ClientId, "replayed-user", "sid-replayed");
        IOAuthLogins On(int node) => cluster.Apps[node].Services.GetRequiredService<IOAuthLogins>();

        var first = await On(0).HandleBackChannelLogoutAsync(ThreeNodesBehindProxy.OidcProvider, token, ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.Equal("replayed-user", first.Token.Subject);

        // The attacker who caught the token posts it to the other nodes (behind a balancer, any node may get it).
        for (var node = 1; node < 3; node++)
        {
            var replay = await Assert.ThrowsAsync<BackChannelLogoutException>(() =>
                On(node).HandleBackChannelLogoutAsync(ThreeNodesBehindProxy.OidcProvider, token, ct).WaitAsync(TimeSpan.FromSeconds(30), ct));
            Assert.Equal(BackChannelLogoutFailure.Replayed, replay.Failure);
        }

        // Another token of the same provider is not held back by the first one's check.
        var other = cluster.Nodes.Sandbox.CreateLogoutToken(cluster.Nodes.ClientId, "replayed-user", "sid-other");
        Assert.Equal("sid-other", (await On(2).HandleBackChannelLogoutAsync(ThreeNodesBehindProxy.OidcProvider, other, ct).WaitAsync(TimeSpan.FromSeconds(30), ct)).Token.SessionId);
    }

    [Fact]
    public async Task A_logout_token_forgotten_after_a_failed_logout_is_accepted_again_on_any_node()
    {
        var ct = TestContext.Current.CancellationToken;
        async Task<IActorRef> AccountsOf(int node) =>
            (await cluster.Apps[node].Services.GetRequiredService<O8Actors.Hosting.O8Runtime>().WhenStarted.WaitAsync(TimeSpan.FromSeconds(30), ct)).Actors.Accounts;
        var check = new O8Actors.Logout.AcceptLogoutToken(ThreeNodesBehindProxy.OidcProvider, "jti-forgotten", DateTimeOffset.UtcNow.AddMinutes(12),
            "attempt-1", TimeSpan.FromMinutes(5));
        async Task<bool> AcceptedOn(int node) =>
            (await (await AccountsOf(node)).Ask<O8Actors.Logout.LogoutTokenAcceptance>(check, TimeSpan.FromSeconds(10), ct)).Check
            == O8Actors.Logout.LogoutTokenCheck.Accepted;

        Assert.True(await AcceptedOn(0));
        Assert.False(await AcceptedOn(1));

        // Node 2's logout of it failed: it forgets the token for the whole cluster.
        (await AccountsOf(2)).Tell(new O8Actors.Logout.ForgetLogoutToken(ThreeNodesBehindProxy.OidcProvider, "jti-forgotten", check.Attempt));

        // The forget and the checks travel from different nodes: wait until a check finds it gone (and spends it again).
        await O8Actors.TestSupport.Eventually.AssertAsync(async () => Assert.True(await AcceptedOn(1), "the forgotten token is accepted again"),
            TimeSpan.FromSeconds(10));
        Assert.False(await AcceptedOn(2));
    }

    [Fact]
    public async Task A_stray_return_is_counted_as_rejected_once_though_every_node_is_asked()
    {
        var ct = TestContext.Current.CancellationToken;
        using var rejected = new O8Actors.TestSupport.CounterRecorder("o8.callbacks.rejected");

        Assert.All(await GetOnEveryNodeAsync(node => $"/oauth/callback/sandbox?state=nobody-waits-{node}", ct),
            status => Assert.Equal(HttpStatusCode.BadRequest, status));

        // The node each one landed on asked the other two; only that node counts it (before: once per node, 9 in all).
        Assert.Equal(["1 reason=missing_code_and_error", "1 reason=missing_code_and_error", "1 reason=missing_code_and_error"], rejected.Measurements);
    }
}
