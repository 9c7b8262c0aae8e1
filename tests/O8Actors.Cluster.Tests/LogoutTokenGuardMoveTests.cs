using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// The attacker's replay across a move of the provider's logout-token guard: a captured logout token, carried out once,
/// is posted again after the node running the guard left the cluster (a rolling deploy). Its own cluster: the node it
/// makes leave is gone for good.
/// </summary>
public sealed class LogoutTokenGuardMoveTests(ThreeNodesBehindProxy cluster) : IClassFixture<ThreeNodesBehindProxy>
{
    private readonly AccountNodes _nodes = new(cluster);

    private Task<int?> GuardHostAsync(CancellationToken ct) => _nodes.HostOfAsync<LogoutTokenGuardRegionKey>(ThreeNodesBehindProxy.OidcProvider, ct);

    /// <summary>
    /// Before, the guard's next incarnation started empty on another node and accepted the replay: the logout ran again,
    /// signing out every session of that user opened since. Now the guard hands what it accepted over as it moves.
    /// </summary>
    [Fact]
    public async Task A_logout_token_replayed_after_the_node_running_its_guard_left_is_refused_as_a_replay()
    {
        var ct = TestContext.Current.CancellationToken;
        var token = cluster.Nodes.Sandbox.CreateLogoutToken(cluster.Nodes.ClientId, "moved-user", "sid-moved");
        static IOAuthLogins On(WebApplication node) => node.Services.GetRequiredService<IOAuthLogins>();

        var first = await On(cluster.Apps[0]).HandleBackChannelLogoutAsync(ThreeNodesBehindProxy.OidcProvider, token, ct).WaitAsync(AccountNodes.Wait, ct);
        Assert.Equal("sid-moved", first.Token.SessionId);
        var host = await GuardHostAsync(ct) ?? throw new InvalidOperationException("The guard runs on no node.");

        TestContext.Current.TestOutputHelper?.WriteLine($"The guard ran on node {host} of 3 (0 keeps the shard coordinators).");

        // The node running the guard leaves gracefully: sharding moves its shards, the guard's among them.
        var leaving = cluster.Apps[host];
        await _nodes.LeaveAsync(leaving, ct);
        await Eventually.TrueAsync(() => leaving.Services.GetRequiredService<ActorSystem>().WhenTerminated.IsCompleted, "the node that left stops",
            AccountNodes.Wait);

        // The attacker posts the captured token to a node that stays (within the token's two minutes).
        var survivor = cluster.Apps.First(n => n != leaving);
        var replay = await Assert.ThrowsAsync<BackChannelLogoutException>(() =>
            On(survivor).HandleBackChannelLogoutAsync(ThreeNodesBehindProxy.OidcProvider, token, ct).WaitAsync(AccountNodes.Wait, ct));
        Assert.Equal(BackChannelLogoutFailure.Replayed, replay.Failure);
        // The guard runs on another node now, with the token it had accepted.
        Assert.NotEqual(host, await GuardHostAsync(ct));
    }
}
