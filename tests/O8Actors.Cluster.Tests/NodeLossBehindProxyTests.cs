using System.Collections.Concurrent;
using System.Net;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Issue 12's combined run: logins begun on random nodes behind the proxy, some signed in, then one node is killed with
/// the rest in flight. Every callback goes through the proxy, whose health checks take the dead node out: the dead
/// node's logins end NodeLost (or had succeeded), every other login signs in through the proxy, each ends exactly once,
/// and no caller waits past its login's timeout.
/// </summary>
public sealed class NodeLossBehindProxyTests(ThreeNodesForNodeLoss cluster) : IClassFixture<ThreeNodesForNodeLoss>
{
    private const int Logins = 90;
    private const int SignedInBeforeTheKill = 30;
    private const int Victim = 2;
    private static readonly TimeSpan LoginTimeout = TimeSpan.FromSeconds(45);

    private sealed record Flight(int Index, HttpClient Browser, PendingLogin Login, string BeganOn, string EntityId);

    private sealed record Landing(HttpStatusCode Status, string Node, string? RetriedFrom);

    private static async Task<IReadOnlySet<string>> EntityIdsAsync(WebApplication node, CancellationToken ct)
    {
        var region = node.Services.GetRequiredService<ActorRegistry>().Get<LoginShardRegionKey>();
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), ct);
        return state.Shards.SelectMany(s => s.EntityIds).ToHashSet(StringComparer.Ordinal);
    }

    private async Task<Flight> BeginAsync(int index, CancellationToken ct)
    {
        var browser = cluster.Nodes.Browser();
        using var connect = await browser.PostAsync(
            new Uri(cluster.Root, $"/connect/sandbox?user=user{index}&timeoutSeconds={(int)LoginTimeout.TotalSeconds}"), null, ct);
        Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
        var login = cluster.Nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
        Assert.True(LoginEntityIds.TryGetEntityId(ClusterNodes.StateOf(login.AuthorizeUrl), out var entityId));
        return new Flight(index, browser, login, connect.Headers.GetValues(ClusterNodes.NodeHeader).Single(), entityId);
    }

    /// <summary>The user approves at the sandbox and the browser follows the redirect to the public callback: the proxy.</summary>
    private static async Task<Landing> SignInAsync(Flight flight, CancellationToken ct)
    {
        using var authorize = await flight.Browser.GetAsync(flight.Login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        using var landing = await flight.Browser.GetAsync(authorize.Headers.Location, ct);
        return new Landing(landing.StatusCode,
            landing.Headers.TryGetValues(ClusterNodes.NodeHeader, out var node) ? node.Single() : "(proxy)",
            landing.Headers.TryGetValues(RetryOnAnotherNode.Header, out var from) ? from.Single() : null);
    }

    [Fact]
    public async Task A_node_killed_with_logins_in_flight_behind_the_proxy_loses_only_its_own_and_the_rest_sign_in_through_the_proxy()
    {
        var ct = TestContext.Current.CancellationToken;
        var flights = new ConcurrentBag<Flight>();
        try
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct };
            await Parallel.ForAsync(0, Logins, options, async (i, token) => flights.Add(await BeginAsync(i, token)));
            var ordered = flights.OrderBy(f => f.Index).ToList();
            Assert.Equal(Logins, ordered.Select(f => f.Login.LoginId).Distinct().Count());
            Assert.Equal(3, ordered.Select(f => f.BeganOn).Distinct().Count());

            // Some sign in before the kill, through the proxy, on any node.
            var early = ordered.Take(SignedInBeforeTheKill).ToList();
            var earlyLandings = new ConcurrentDictionary<string, Landing>();
            await Parallel.ForEachAsync(early, options, async (f, token) => earlyLandings[f.Login.LoginId] = await SignInAsync(f, token));
            Assert.All(earlyLandings.Values, l => Assert.Equal(HttpStatusCode.OK, l.Status));

            var victimName = $"o8-cluster:{cluster.HttpsPorts[Victim]}";
            var onVictim = await EntityIdsAsync(cluster.Apps[Victim], ct);
            // The callers who survive: those whose beginning node lives (the others' callers died with it).
            var callers = ordered.Where(f => f.BeganOn != victimName).ToList();
            var waiting = callers.Where(f => !earlyLandings.ContainsKey(f.Login.LoginId)).ToList();
            var lost = waiting.Where(f => onVictim.Contains(f.EntityId)).ToList();
            var kept = waiting.Where(f => !onVictim.Contains(f.EntityId)).ToList();
            Assert.NotEmpty(lost);
            Assert.NotEmpty(kept);
            Assert.True(cluster.ProxyRoutesTo(Victim), "the proxy routes to the victim before the kill");

            // The node dies with the rest in flight (waiting at the provider); their users come back at once, through the
            // proxy, while its health checks have not yet taken the dead node out: a callback sent there gets no answer
            // and the proxy sends it to another node. Half the victim's logins wait longer, so some surely end NodeLost.
            await cluster.KillAsync(Victim);
            var heldBack = lost.Take((lost.Count + 1) / 2).ToList();
            var lateLandings = new ConcurrentDictionary<string, Landing>();
            await Parallel.ForEachAsync(waiting.Except(heldBack), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
                async (f, token) => lateLandings[f.Login.LoginId] = await SignInAsync(f, token));

            // The proxy's health checks take the dead node out, without the test telling it anything.
            await Eventually.TrueAsync(() => !cluster.ProxyRoutesTo(Victim), "the proxy stops routing to the dead node", TimeSpan.FromSeconds(15));
            Assert.True(cluster.ProxyRoutesTo(0) && cluster.ProxyRoutesTo(1), "the proxy keeps the two live nodes");

            // Every login whose node lives got its page from a live node.
            Assert.All(kept, f =>
            {
                Assert.Equal(HttpStatusCode.OK, lateLandings[f.Login.LoginId].Status);
                Assert.NotEqual(victimName, lateLandings[f.Login.LoginId].Node);
            });

            // Every surviving caller gets one outcome, before its login's timeout: the dead node's NodeLost (or success,
            // if its callback won the race), every other one success. The outcome's kind is what shows it came in time
            // (a login past its timeout ends as Timeout); the wait is bounded from now, because on a loaded machine the
            // scenario's own steps (the kill, the proxy's health checks, the late landings) can use up a login's 45 s
            // before this line, and a wait computed from the login's start would then be negative.
            foreach (var f in callers)
            {
                var outcome = await f.Login.Outcome.WaitAsync(LoginTimeout, ct);
                Assert.Equal(f.Login.LoginId, outcome.LoginId);
                if (heldBack.Contains(f) || (lost.Contains(f) && outcome is LoginFailed))
                    Assert.Equal(LoginFailure.NodeLost, Assert.IsType<LoginFailed>(outcome).Failure);
                else
                    Assert.Equal($"user{f.Index}", ClusterNodes.Subject(Assert.IsType<LoginSucceeded>(outcome).Tokens.IdToken!));
            }

            // Exactly once: one handler run per login that succeeded; none for a lost one (its node died before it ended).
            foreach (var f in callers)
            {
                if (await f.Login.Outcome is LoginSucceeded)
                {
                    await Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(f.Login.LoginId), $"login {f.Index}'s handler ran");
                    Assert.IsType<LoginSucceeded>(Assert.Single(cluster.Nodes.Handled[f.Login.LoginId]).Ended.Outcome);
                }
                else
                {
                    Assert.False(cluster.Nodes.Handled.ContainsKey(f.Login.LoginId), $"login {f.Index} was lost but a handler ran");
                }
            }

            // The held-back users come back: their callbacks, through the proxy, find no login on any node (the expired
            // page, no token request), and their outcome stays NodeLost.
            var tokenRequests = cluster.Nodes.Sandbox.Counters.TokenRequests;
            foreach (var f in heldBack)
            {
                var late = await SignInAsync(f, ct);
                Assert.Equal(HttpStatusCode.BadRequest, late.Status);
                Assert.Equal(LoginFailure.NodeLost, Assert.IsType<LoginFailed>(await f.Login.Outcome).Failure);
            }

            Assert.Equal(tokenRequests, cluster.Nodes.Sandbox.Counters.TokenRequests);
        }
        finally
        {
            foreach (var f in flights) f.Browser.Dispose();
        }
    }
}
