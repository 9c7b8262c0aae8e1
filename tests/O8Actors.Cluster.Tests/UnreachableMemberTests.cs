using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A member that cannot answer (its node died, and the split brain resolver has not downed it yet) is not asked about a
/// sign-out's return: a genuine return is answered at once, not after that member's ask has timed out.
/// </summary>
public sealed class UnreachableMemberTests(ThreeNodesWithAnUnreachableMember cluster) : IClassFixture<ThreeNodesWithAnUnreachableMember>
{
    [Fact]
    public async Task A_sign_outs_return_is_answered_at_once_while_another_member_is_unreachable()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var connector = cluster.Apps[0].Services.GetRequiredService<IOAuthConnector>();
        var signOut = await connector.BeginSignOutAsync(new OAuthAccount("sandbox", "gone-unreachable"), cancellationToken: ct)
            .WaitAsync(TimeSpan.FromSeconds(30), ct);
        using var atProvider = await browser.GetAsync(signOut.EndSessionUrl, ct);
        Assert.Equal(HttpStatusCode.Found, atProvider.StatusCode);
        // The provider's redirect lands on node 1; the sign-out waits on node 0.
        var back = new Uri($"https://127.0.0.1:{cluster.HttpsPorts[1]}{atProvider.Headers.Location!.PathAndQuery}");

        // Node 2 dies abruptly: node 1 sees it unreachable, still a member until the resolver downs it (10 s later).
        await cluster.KillAsync(2);
        var node1 = Akka.Cluster.Cluster.Get(cluster.Apps[1].Services.GetRequiredService<ActorSystem>());
        await Eventually.TrueAsync(() => node1.State.Unreachable.Count == 1, "node 1 sees node 2 unreachable", TimeSpan.FromSeconds(15));

        var clock = Stopwatch.StartNew();
        using var page = await browser.GetAsync(back, ct);
        clock.Stop();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        // Before, node 2 was asked too, and the page waited for that ask's timeout (10 s).
        Assert.True(clock.Elapsed < SignOutReturnSearch.AskTimeout / 2, $"answered in {clock.Elapsed.TotalSeconds:0.0} s");
        // Skipped because it was unreachable: it had not left the cluster yet.
        Assert.Single(node1.State.Unreachable);
        var result = await signOut.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.Equal(ProviderSessionOutcome.Ended, result.ProviderSession);
    }
}
