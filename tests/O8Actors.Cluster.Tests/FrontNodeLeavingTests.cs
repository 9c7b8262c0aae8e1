using System.Net;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A front node (without the logins' role, so its regions are proxies) and a back node of the role; the front node
/// leaves on the first call, and is held in its shutdown until the fixture is disposed.
/// </summary>
public sealed class FrontNodeLeaving() : FrontAndBackNodes(accessTokenLength: null, backFrameSize: null)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly TaskCompletionSource<Akka.Done> _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _left;

    /// <summary>An OpenID provider beside the sandbox (the sandbox's keys), whose logout tokens both nodes check.</summary>
    public const string OidcProvider = "sandbox-oidc";

    protected override IReadOnlyDictionary<string, string?> NodeSettings => Nodes.OidcProviderSettings(OidcProvider);

    /// <summary>Completes once the front node's logins' region (a proxy) has stopped; the node leaves on the first call.</summary>
    public Task LeftAsync() => _left ??= LeaveAndHoldAsync();

    private async Task LeaveAndHoldAsync()
    {
        var system = Front.Services.GetRequiredService<ActorSystem>();
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "test-holds-the-node", () => _release.Task);
        var regionStopped = Front.Services.GetRequiredService<ActorRegistry>().Get<LoginShardRegionKey>().WatchAsync();
        _ = Akka.Cluster.Cluster.Get(system).LeaveAsync();
        await regionStopped.WaitAsync(Wait);
    }

    public override async ValueTask DisposeAsync()
    {
        _release.TrySetResult(Akka.Done.Instance);
        await base.DisposeAsync();
    }
}

/// <summary>
/// A node without the logins' role that leaves sends what lands on it to the logins' region on a node that stays, found
/// by the region's name: its own is a proxy (<c>o8-loginsProxy</c>), a name no node of the role has, and a callback sent
/// there was lost (the browser waited for a 504, the login for a code that never came).
/// </summary>
public sealed class FrontNodeLeavingTests(FrontNodeLeaving cluster) : IClassFixture<FrontNodeLeaving>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_callback_landing_on_a_leaving_node_without_the_logins_role_reaches_its_login_on_a_node_of_the_role()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        using var connect = await browser.PostAsync(new Uri($"https://127.0.0.1:{cluster.FrontPort}/connect/sandbox?user=alice&account=alice"), null, ct);
        Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
        var login = cluster.Nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
        using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);

        await cluster.LeftAsync().WaitAsync(Wait, ct);
        using var landing = await browser.GetAsync(authorize.Headers.Location, ct);

        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        var succeeded = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        await Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(login.LoginId), "the login's node ran its outcome handler", Wait);
        Assert.Equal(cluster.BackName, Assert.Single(cluster.Nodes.Handled[login.LoginId]).Node);

        // The accounts' region is found the same way: the leaving node's account calls reach the account on the back node.
        var account = succeeded.Account ?? throw new InvalidOperationException("The login signed in no account.");
        var token = await cluster.Front.Services.GetRequiredService<IOAuthLogins>().GetAccessTokenAsync(account, cancellationToken: ct).WaitAsync(Wait, ct);
        Assert.Equal(succeeded.Tokens.AccessToken, token.Token);

        // And the logout tokens' guards: a back-channel logout posted to the leaving node is checked by its provider's
        // guard on the back node, which refuses the same token posted there again.
        static IOAuthLogins On(WebApplication node) => node.Services.GetRequiredService<IOAuthLogins>();
        var logoutToken = cluster.Nodes.Sandbox.CreateLogoutToken(cluster.Nodes.ClientId, "front-user", "sid-front");
        var logout = await On(cluster.Front).HandleBackChannelLogoutAsync(FrontNodeLeaving.OidcProvider, logoutToken, ct).WaitAsync(Wait, ct);
        Assert.Equal("sid-front", logout.Token.SessionId);
        var replay = await Assert.ThrowsAsync<BackChannelLogoutException>(() =>
            On(cluster.Back).HandleBackChannelLogoutAsync(FrontNodeLeaving.OidcProvider, logoutToken, ct).WaitAsync(Wait, ct));
        Assert.Equal(BackChannelLogoutFailure.Replayed, replay.Failure);
    }
}
