using System.Net;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A login that ends while its node shuts down (SIGTERM: the host stops, and Akka's shutdown hands the login off once its
/// code's exchange has finished) runs the app's outcome handler there with a token that is still live: the handler's
/// I/O (recording the sign-in) runs. Before, the handler got the host's ApplicationStopping, cancelled before Akka even
/// began to stop, and a handler passing it on lost the record silently. Its own cluster: the node it stops is gone for good.
/// </summary>
public sealed class OutcomeHandlerDuringShutdownTests(ThreeNodesBehindProxy cluster) : IClassFixture<ThreeNodesBehindProxy>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_login_that_ends_while_its_node_stops_runs_its_handler_with_a_token_cancelled_only_as_the_node_terminates()
    {
        var ct = TestContext.Current.CancellationToken;
        var beginner = cluster.HttpsPorts[0];
        var (browser, login, host, _) = await cluster.BeginLoginRunningOnAsync(i => $"user=stopper{i}", n => n > 0, ct);
        using var user = browser;
        using var authorize = await user.GetAsync(login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        // The provider's redirect lands on the beginning node (it stays): the page comes back there from the login's node.
        var callback = new Uri($"https://127.0.0.1:{beginner}{authorize.Headers.Location!.PathAndQuery}");

        // The token endpoint holds the code's exchange for 3 s, and the login's host is stopped meanwhile, as SIGTERM would.
        var delayed = cluster.Nodes.Sandbox.Counters.Faults(TokenFaultKind.Delay);
        cluster.Nodes.Sandbox.TokenFaults = new TokenFaultPlan(TokenFault.Delay(TimeSpan.FromSeconds(3)), share: 1);
        var landing = user.GetAsync(callback, ct);
        await Eventually.TrueAsync(() => cluster.Nodes.Sandbox.Counters.Faults(TokenFaultKind.Delay) > delayed,
            "the exchange reached the token endpoint, which holds it", Wait);
        var stopping = cluster.Apps[host];
        var system = stopping.Services.GetRequiredService<ActorSystem>();
        var stopped = stopping.StopAsync(ct);
        cluster.Nodes.Sandbox.TokenFaults = null;

        using var page = await landing.WaitAsync(Wait, ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        await Eventually.TrueAsync(() => cluster.Nodes.HandlerTokens.ContainsKey(login.LoginId), "the login's outcome handler ran", Wait);
        var (cancelledWhenRun, token) = cluster.Nodes.HandlerTokens[login.LoginId];
        // Before: True (the host's ApplicationStopping), so the handler's I/O was cancelled at once.
        Assert.False(cancelledWhenRun, "the handler of a login that ended during its node's shutdown got a token already cancelled");

        await stopped.WaitAsync(Wait, ct);
        await Eventually.TrueAsync(() => system.WhenTerminated.IsCompleted, "the stopped node's actor system terminates", Wait);
        Assert.True(token.IsCancellationRequested, "the handler's token is cancelled once its node's actor system has terminated");
    }
}
