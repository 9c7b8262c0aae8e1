using System.Net;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A login whose node leaves (a rolling deploy) or stops (SIGTERM) while its callback's code is at the token endpoint: its
/// shard is handed to another node. The code is spent by then, so a login stopped there could only end in failure; it
/// finishes its exchange first. Its own cluster: each test takes one of the nodes that do not keep the coordinators out
/// for good.
/// </summary>
public sealed class LoginMovedMidExchangeTests(ThreeNodesBehindProxy cluster) : IClassFixture<ThreeNodesBehindProxy>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_login_whose_node_leaves_while_its_code_is_exchanged_finishes_and_its_browser_gets_the_signed_in_page()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = await HoldExchangeAsync("mover", ct);
        using var user = held.Browser;

        var leaving = cluster.Apps[held.Host];
        await Akka.Cluster.Cluster.Get(leaving.Services.GetRequiredService<ActorSystem>()).LeaveAsync(ct);

        using var page = await held.Page.WaitAsync(Wait, ct);
        var body = await page.Content.ReadAsStringAsync(ct);
        // Before: 500, "The sign-in ended before it could finish", and the caller got NodeLost.
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"HTTP {(int)page.StatusCode}: {body}");
        Assert.Contains("You are signed in", body, StringComparison.Ordinal);
        var outcome = Assert.IsType<LoginSucceeded>(await held.Login.Outcome.WaitAsync(Wait, ct));
        Assert.Equal(held.User, ClusterNodes.Subject(outcome.Tokens.IdToken!));
        await Eventually.TrueAsync(() => leaving.Services.GetRequiredService<ActorSystem>().WhenTerminated.IsCompleted, "the node that left stops", Wait);
    }

    [Fact]
    public async Task A_login_that_ends_while_its_node_stops_runs_its_outcome_handler_with_a_token_cancelled_only_as_the_node_terminates()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = await HoldExchangeAsync("stopper", ct);
        using var user = held.Browser;

        // Stopped as SIGTERM stops it: the host's ApplicationStopping first, then Akka's coordinated shutdown, whose hand-off
        // lets the login finish.
        var stopping = cluster.Apps[held.Host];
        var system = stopping.Services.GetRequiredService<ActorSystem>();
        var stopped = stopping.StopAsync(ct);

        using var page = await held.Page.WaitAsync(Wait, ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.IsType<LoginSucceeded>(await held.Login.Outcome.WaitAsync(Wait, ct));
        var loginId = held.Login.LoginId;
        await Eventually.TrueAsync(() => cluster.Nodes.HandlerTokens.ContainsKey(loginId), "the login's outcome handler ran", Wait);
        var (cancelledWhenRun, token) = cluster.Nodes.HandlerTokens[loginId];
        // Before: cancelled (the host's ApplicationStopping), so a handler passing it to its I/O lost the sign-in's record.
        Assert.False(cancelledWhenRun, "the handler of a login that ended during its node's shutdown got a token already cancelled");

        await stopped.WaitAsync(Wait, ct);
        await Eventually.TrueAsync(() => system.WhenTerminated.IsCompleted, "the stopped node's actor system terminates", Wait);
        Assert.True(token.IsCancellationRequested, "the handler's token is cancelled once its node's actor system has terminated");
    }

    /// <summary>A login whose code's exchange the token endpoint holds (3 s), and what the test needs of it.</summary>
    private sealed record HeldExchange(HttpClient Browser, PendingLogin Login, int Host, string User, Task<HttpResponseMessage> Page);

    /// <summary>
    /// Begins a login on the first node (the oldest, which keeps the coordinators) until one runs on another node that is
    /// still up, takes its browser to the provider, and sends its callback to the first node (which stays; the page comes
    /// back there from the login's node); returns once the token endpoint holds the code's exchange.
    /// </summary>
    private async Task<HeldExchange> HoldExchangeAsync(string userPrefix, CancellationToken ct)
    {
        var (browser, login, host, tried) = await cluster.BeginLoginRunningOnAsync(i => $"user={userPrefix}{i}",
            n => n > 0 && !cluster.Apps[n].Services.GetRequiredService<ActorSystem>().WhenTerminated.IsCompleted, ct);
        using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        var callback = new Uri($"https://127.0.0.1:{cluster.HttpsPorts[0]}{authorize.Headers.Location!.PathAndQuery}");

        var sandbox = cluster.Nodes.Sandbox;
        var delayed = sandbox.Counters.Faults(TokenFaultKind.Delay);
        sandbox.TokenFaults = new TokenFaultPlan(TokenFault.Delay(TimeSpan.FromSeconds(3)), share: 1);
        var page = browser.GetAsync(callback, ct);
        await Eventually.TrueAsync(() => sandbox.Counters.Faults(TokenFaultKind.Delay) > delayed, "the exchange reached the token endpoint, which holds it", Wait);
        // The held exchange keeps its delay; nothing later is held.
        sandbox.TokenFaults = null;
        return new HeldExchange(browser, login, host, $"{userPrefix}{tried}", page);
    }
}
