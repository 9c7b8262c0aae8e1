using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A node that is shutting down (a rolling deploy's SIGTERM: the host runs the actor system's coordinated shutdown) stays
/// an Up member until its shard regions have stopped, which takes a while (its accounts finish their refreshes first,
/// up to 120 s), long after its O8Actors listener has stopped. A sign-out's return searched for on the other nodes
/// meanwhile must not wait for that node: before, its gateway forwarded the question to the stopped listener, nobody
/// answered, and every such return waited out the search's 10 s ask. Its own cluster: the node it stops is gone for good.
/// </summary>
public sealed class SignOutReturnWhileLeavingTests(ThreeNodesBehindProxy cluster) : IClassFixture<ThreeNodesBehindProxy>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_sign_outs_return_is_answered_at_once_while_another_node_shuts_down()
    {
        var ct = TestContext.Current.CancellationToken;
        var leaving = cluster.Apps[2].Services.GetRequiredService<ActorSystem>();
        var started = await cluster.Apps[2].Services.GetRequiredService<O8Runtime>().WhenStarted.WaitAsync(Wait, ct);
        // Node 2's shutdown is held before its shard regions stop, as an account's refresh under way holds it there.
        var release = new TaskCompletionSource<Akka.Done>(TaskCreationOptions.RunContinuationsAsynchronously);
        CoordinatedShutdown.Get(leaving).AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "test-holds-the-node", () => release.Task);
        try
        {
            using var browser = cluster.Nodes.Browser();
            var connector = cluster.Apps[0].Services.GetRequiredService<IOAuthConnector>();
            var signOut = await connector.BeginSignOutAsync(new OAuthAccount("sandbox", "gone-while-leaving"), cancellationToken: ct).WaitAsync(Wait, ct);
            using var atProvider = await browser.GetAsync(signOut.EndSessionUrl, ct);
            Assert.Equal(HttpStatusCode.Found, atProvider.StatusCode);
            // The provider's redirect lands on node 1; the sign-out waits on node 0.
            var back = new Uri($"https://127.0.0.1:{cluster.HttpsPorts[1]}{atProvider.Headers.Location!.PathAndQuery}");

            var stopped = started.Actors.Listener.WatchAsync(ct);
            _ = CoordinatedShutdown.Get(leaving).Run(CoordinatedShutdown.ClrExitReason.Instance);
            await stopped.WaitAsync(Wait, ct);
            var node1 = Akka.Cluster.Cluster.Get(cluster.Apps[1].Services.GetRequiredService<ActorSystem>());
            Assert.Equal(Akka.Cluster.MemberStatus.Up, node1.State.Members.Single(m => m.Address.Equals(Akka.Cluster.Cluster.Get(leaving).SelfAddress)).Status);

            var clock = Stopwatch.StartNew();
            using var page = await browser.GetAsync(back, ct);
            clock.Stop();

            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            // Before: node 2 was asked too, and the page waited for that ask's timeout (10 s).
            Assert.True(clock.Elapsed < SignOutReturnSearch.AskTimeout / 2, $"answered in {clock.Elapsed.TotalSeconds:0.0} s");
            var result = await signOut.Outcome.WaitAsync(Wait, ct);
            Assert.Equal(ProviderSessionOutcome.Ended, result.ProviderSession);
        }
        finally
        {
            release.TrySetResult(Akka.Done.Instance);
        }
    }
}
