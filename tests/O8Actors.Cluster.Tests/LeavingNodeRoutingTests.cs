using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A node that leaves (a rolling deploy, a downing) hands its logins' shards off and its region stops within a second or
/// so, but the node itself runs on for the rest of its shutdown (up to two minutes while an account finishes a refresh),
/// its HTTP server still taking callbacks and begins. They reach their logins on the nodes that stay, through the logins'
/// region on another node that is up. Before, its gateway kept sending them to the stopped region: a callback's browser
/// waited out the callback's ask (35 s) for a 504 and its login never got its code; a begin failed after 30 s as if no
/// cluster had formed. Then through a proxy of the region on the leaving node, which failed the same way whenever the
/// node began to leave before its proxy had registered with the coordinator (which registers none of a member no longer
/// up): once in a few runs here, as this fixture's node leaves about two seconds after the cluster forms.
/// </summary>
public sealed class LeavingNodeRoutingTests(ThreeNodesOneLeaving cluster) : IClassFixture<ThreeNodesOneLeaving>
{
    private const int Leaving = ThreeNodesOneLeaving.Leaving;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private Uri OnLeavingNode(string pathAndQuery) => OnNode(cluster.HttpsPorts[Leaving], pathAndQuery);

    private static Uri OnNode(int httpsPort, string pathAndQuery) => new($"https://127.0.0.1:{httpsPort}{pathAndQuery}");

    [Fact]
    public async Task A_callback_landing_on_a_leaving_node_reaches_its_login_on_a_node_that_stays()
    {
        var ct = TestContext.Current.CancellationToken;
        var (user, login, callback) = await AtTheProviderAsync("leaving-callback", ct);
        using var browser = user;

        await cluster.LeftAsync().WaitAsync(Wait, ct);

        await CallbackSucceedsAsync(user, OnLeavingNode(callback), login, ct);
    }

    [Fact]
    public async Task A_login_begun_on_a_leaving_node_is_served_by_a_node_that_stays()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.LeftAsync().WaitAsync(Wait, ct);
        using var user = cluster.Nodes.Browser();

        var clock = Stopwatch.StartNew();
        using var connect = await user.PostAsync(OnLeavingNode("/connect/sandbox?user=leaving-begin"), null, ct);
        clock.Stop();
        Assert.True(connect.StatusCode == HttpStatusCode.Redirect, $"HTTP {(int)connect.StatusCode} after {clock.Elapsed.TotalSeconds:0.0} s");
        var login = cluster.Nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);

        using var authorize = await user.GetAsync(login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        using var page = await user.GetAsync(OnLeavingNode(authorize.Headers.Location!.PathAndQuery), ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        // It ran on a node that stays (the node whose outcome handler saw it), and the leaving node heard its outcome.
        await Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(login.LoginId), "the login's node ran its outcome handler", Wait);
        Assert.NotEqual($"o8-cluster:{cluster.HttpsPorts[Leaving]}", Assert.Single(cluster.Nodes.Handled[login.LoginId]).Node);
    }

    [Fact]
    public async Task A_login_begun_on_a_leaving_node_is_cancelled_on_its_node_that_stays()
    {
        var ct = TestContext.Current.CancellationToken;
        await cluster.LeftAsync().WaitAsync(Wait, ct);
        var connector = cluster.Apps[Leaving].Services.GetRequiredService<IOAuthConnector>();
        using var cancel = new CancellationTokenSource();
        var login = await connector.BeginAsync("sandbox", ClusterNodes.Hint("alice"), cancel.Token).WaitAsync(Wait, ct);

        await cancel.CancelAsync();

        Assert.IsType<LoginCancelled>(await login.Outcome.WaitAsync(Wait, ct));
        await Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(login.LoginId), "the login's node ran its outcome handler", Wait);
        Assert.IsType<LoginCancelled>(Assert.Single(cluster.Nodes.Handled[login.LoginId]).Ended.Outcome);
    }

    [Fact]
    public async Task A_node_that_leaves_as_soon_as_it_is_up_sends_a_callback_landing_there_to_its_login_on_a_node_that_stays()
    {
        // A deploy rolled back at once, or a pod replaced right after it started: the node leaves before a region proxy on it
        // could have registered with the coordinator (registration retries every 2 s, and none is taken from a member that
        // is no longer up). Routing through such a proxy held every request it got.
        var ct = TestContext.Current.CancellationToken;
        var (user, login, callback) = await AtTheProviderAsync("early-leaver", ct);
        using var browser = user;

        var (node, port) = await cluster.AddNodeAsync();
        var self = Akka.Cluster.Cluster.Get(node.Services.GetRequiredService<Akka.Actor.ActorSystem>());
        await Eventually.TrueAsync(() => self.SelfMember.Status == Akka.Cluster.MemberStatus.Up, "the new node is up", Wait);
        await cluster.LeaveAndHoldAsync(cluster.Apps.Count - 1).WaitAsync(Wait, ct);

        await CallbackSucceedsAsync(user, OnNode(port, callback), login, ct);
    }

    /// <summary>
    /// A scale-in by two: the two youngest members get SIGTERM together, and each stays an Up member until its
    /// shutdown's cluster-leave phase, long after its regions have stopped. A callback landing on one of them went to the
    /// other's stopped region (the youngest other member that was up) and its browser waited for a 504; each now tells
    /// the others it is leaving first, and they route around it.
    /// </summary>
    [Fact]
    public async Task A_callback_landing_on_one_of_two_nodes_shut_down_together_reaches_its_login_on_a_node_that_stays()
    {
        var ct = TestContext.Current.CancellationToken;
        var (user, login, callback) = await AtTheProviderAsync("two-leaving", ct);
        using var browser = user;
        var (first, firstPort) = await cluster.AddNodeAsync();
        var (second, _) = await cluster.AddNodeAsync();
        foreach (var node in new[] { first, second })
        {
            var self = Akka.Cluster.Cluster.Get(node.Services.GetRequiredService<Akka.Actor.ActorSystem>());
            await Eventually.TrueAsync(() => self.SelfMember.Status == Akka.Cluster.MemberStatus.Up, "the new node is up", Wait);
        }

        await Task.WhenAll(cluster.ShutDownAndHoldAsync(cluster.Apps.Count - 2), cluster.ShutDownAndHoldAsync(cluster.Apps.Count - 1)).WaitAsync(Wait, ct);

        await CallbackSucceedsAsync(user, OnNode(firstPort, callback), login, ct);
    }

    /// <summary>
    /// A login begun on the first node whose entity runs there (a node that stays), its user past the provider: the user's
    /// browser, the login, and the path and query of the callback the provider redirected to.
    /// </summary>
    private async Task<(HttpClient User, PendingLogin Login, string Callback)> AtTheProviderAsync(string user, CancellationToken ct)
    {
        var (browser, login, _, _) = await cluster.BeginLoginRunningOnAsync(i => $"user={user}{i}", n => n == 0, ct);
        using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        return (browser, login, authorize.Headers.Location!.PathAndQuery);
    }

    private static async Task CallbackSucceedsAsync(HttpClient user, Uri callback, PendingLogin login, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var page = await user.GetAsync(callback, ct);
        clock.Stop();
        Assert.True(page.StatusCode == HttpStatusCode.OK,
            $"HTTP {(int)page.StatusCode} after {clock.Elapsed.TotalSeconds:0.0} s; login ended: {login.Outcome.IsCompleted}");
        Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
    }
}
