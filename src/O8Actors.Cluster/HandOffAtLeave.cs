using Akka.Actor;
using Akka.Cluster.Sharding;

namespace O8Actors.Cluster;

/// <summary>
/// Hands this node's logins, then its accounts, off before the other shard regions stop, when the node leaves the cluster.
/// </summary>
/// <remarks>
/// Akka stops every shard region in one shutdown phase (<c>cluster-sharding-shutdown-region</c>, 10 s), all at once. An
/// account whose refresh is under way waits for its answer before it stops (the provider has rotated the refresh
/// token: the rotated one must be stored), but the region of the database store's registers, with nothing to wait for,
/// was gone by then: the save failed, the database kept the spent refresh token, and the account's next node refreshed
/// with it and signed its user out (<c>invalid_grant</c>; a provider that detects reuse revokes the whole grant). So
/// the accounts' region is handed off a phase earlier (<c>before-cluster-shutdown</c>, sized in
/// <c>hocon/o8-cluster.conf</c> for a token request), while the store still runs. The logins go first in the same task:
/// a login whose code is at the provider finishes its exchange before its entity moves, and a successful one is then
/// remembered as its account, through the accounts' region, which must still run here for that.
/// </remarks>
internal static class HandOffAtLeave
{
    /// <summary>The shutdown phase it runs in: the last before the shard regions stop.</summary>
    public const string Phase = "before-cluster-shutdown";

    /// <summary>
    /// Adds the task to <paramref name="system"/>'s coordinated shutdown for <paramref name="logins"/> and
    /// <paramref name="accounts"/>, its logins' and accounts' regions.
    /// </summary>
    public static void Register(ActorSystem system, IActorRef logins, IActorRef accounts) =>
        CoordinatedShutdown.Get(system).AddTask(Phase, "o8-hand-off", async () =>
        {
            // Each region stops once its shards are handed to the other nodes (each entity once it has finished). The
            // phase's timeout bounds the whole wait; sharding's own region shutdown follows either way.
            await HandOffAsync(logins).ConfigureAwait(false);
            await HandOffAsync(accounts).ConfigureAwait(false);
            return Akka.Done.Instance;
        });

    private static Task HandOffAsync(IActorRef region)
    {
        var stopped = region.WatchAsync();
        region.Tell(GracefulShutdown.Instance);
        return stopped;
    }
}
