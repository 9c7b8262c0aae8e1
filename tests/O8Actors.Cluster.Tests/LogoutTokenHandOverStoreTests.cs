using Akka.Actor;
using O8Actors.Logout;

namespace O8Actors.Cluster.Tests;

/// <summary>A node's hand-over store of the logout-token guards, over Akka's Distributed Data, on a cluster of one node.</summary>
public sealed class LogoutTokenHandOverStoreTests() : Akka.TestKit.Xunit.TestKit("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp.hostname = 127.0.0.1
    akka.remote.dot-netty.tcp.port = 0
    """)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<IActorRef> StoreAsync()
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(up.SetResult);
        await cluster.JoinAsync(cluster.SelfAddress, Ct);
        await up.Task.WaitAsync(Wait, Ct);
        return Sys.ActorOf(LogoutTokenHandOverStore.Props(Sys));
    }

    [Fact]
    public async Task What_a_guard_left_is_found_by_the_next_one_and_a_later_hand_over_replaces_it()
    {
        var store = await StoreAsync();
        var at = new DateTimeOffset(2026, 12, 2, 12, 30, 0, TimeSpan.Zero);
        var first = new LogoutTokensHandedOver("sandbox", [new LogoutTokenHold("jti-1", at, true, "attempt-1", at)]);

        Assert.Empty((await store.Ask<LogoutTokenHandOverFound>(new FindLogoutTokenHandOver("sandbox"), Wait, Ct)).Holds);
        await store.Ask<LogoutTokenHandOverSaved>(new SaveLogoutTokenHandOver(first), Wait, Ct);
        Assert.Equal(first.Holds, (await store.Ask<LogoutTokenHandOverFound>(new FindLogoutTokenHandOver("sandbox"), Wait, Ct)).Holds);
        // Each provider its own.
        Assert.Empty((await store.Ask<LogoutTokenHandOverFound>(new FindLogoutTokenHandOver("other"), Wait, Ct)).Holds);

        // The guard's next move leaves what it holds then, which is all the one after it needs.
        var second = new LogoutTokensHandedOver("sandbox", [new LogoutTokenHold("jti-2", at, false, "attempt-2", at)]);
        await store.Ask<LogoutTokenHandOverSaved>(new SaveLogoutTokenHandOver(second), Wait, Ct);
        Assert.Equal(second.Holds, (await store.Ask<LogoutTokenHandOverFound>(new FindLogoutTokenHandOver("sandbox"), Wait, Ct)).Holds);
    }
}
