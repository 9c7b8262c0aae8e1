using System.Net;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A login whose node leaves (a rolling deploy) while its callback's code is at the token endpoint: its shard is handed
/// to another node. The code is spent by then, so a login stopped there could only end in failure; it finishes its
/// exchange first. Before, the entity stopped at once: the browser got a 500 page and the caller NodeLost, for a user
/// who had just signed in. Its own cluster: the node it makes leave is gone for good.
/// </summary>
public sealed class LoginMovedMidExchangeTests(ThreeNodesBehindProxy cluster) : IClassFixture<ThreeNodesBehindProxy>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_login_whose_node_leaves_while_its_code_is_exchanged_finishes_and_its_browser_gets_the_signed_in_page()
    {
        var ct = TestContext.Current.CancellationToken;
        var beginner = cluster.HttpsPorts[0];
        // Begun on the first node (the oldest, which keeps the coordinator), until one login runs on another node.
        var (browser, login, host, tried) = await cluster.BeginLoginRunningOnAsync(i => $"user=mover{i}", n => n > 0, ct);
        var name = $"mover{tried}";
        using var user = browser;
        using var authorize = await user.GetAsync(login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        // The provider's redirect lands on the beginning node (it stays): the page comes back there from the login's node.
        var callback = new Uri($"https://127.0.0.1:{beginner}{authorize.Headers.Location!.PathAndQuery}");

        // The token endpoint holds the code's exchange for 3 s, and the login's node is told to leave meanwhile.
        var delayed = cluster.Nodes.Sandbox.Counters.Faults(TokenFaultKind.Delay);
        cluster.Nodes.Sandbox.TokenFaults = new TokenFaultPlan(TokenFault.Delay(TimeSpan.FromSeconds(3)), share: 1);
        var landing = user.GetAsync(callback, ct);
        await Eventually.TrueAsync(() => cluster.Nodes.Sandbox.Counters.Faults(TokenFaultKind.Delay) > delayed,
            "the exchange reached the token endpoint, which holds it", Wait);
        var leaving = cluster.Apps[host];
        await Akka.Cluster.Cluster.Get(leaving.Services.GetRequiredService<ActorSystem>()).LeaveAsync(ct);
        cluster.Nodes.Sandbox.TokenFaults = null;

        using var page = await landing.WaitAsync(Wait, ct);
        var body = await page.Content.ReadAsStringAsync(ct);
        // Before: 500, "The sign-in ended before it could finish", and the caller got NodeLost.
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"HTTP {(int)page.StatusCode}: {body}");
        Assert.Contains("You are signed in", body, StringComparison.Ordinal);
        var outcome = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        Assert.Equal(name, ClusterNodes.Subject(outcome.Tokens.IdToken!));
        await Eventually.TrueAsync(() => leaving.Services.GetRequiredService<ActorSystem>().WhenTerminated.IsCompleted, "the node that left stops", Wait);
    }
}
