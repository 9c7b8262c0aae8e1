using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace O8Actors.Cluster;

/// <summary>
/// Hands this node's logins and its accounts off, both at once, before the other shard regions stop, when the node leaves
/// the cluster.
/// </summary>
/// <remarks>
/// Akka stops every shard region in one shutdown phase (<c>cluster-sharding-shutdown-region</c>, 10 s), all at once. An
/// account whose refresh is under way waits for its answer before it stops (the provider has rotated the refresh
/// token: the rotated one must be stored), but the region of the database store's registers, with nothing to wait for,
/// was gone by then: the save failed, the database kept the spent refresh token, and the account's next node refreshed
/// with it and signed its user out (<c>invalid_grant</c>; a provider that detects reuse revokes the whole grant). So
/// the accounts' region is handed off a phase earlier (<c>before-cluster-shutdown</c>, sized by <see cref="HandOffTimeouts"/>
/// for the longest an account or a login may take to stop once told to move), while the store still runs. A region told
/// to hand off during a shutdown stops itself 1 s before the timeout of sharding's own phase, so that phase is set 1 s
/// longer than this one (Akka's 10 s stopped the regions after 9 s); a node configured shorter logs a warning at start.
/// <para>The accounts are handed off at once, not after the logins: while the accounts' region is live here, other
/// nodes start refreshes here, and one started late in the phase was cut off by its timeout mid-refresh, losing the
/// rotated refresh token. Handed off, its accounts take no new work here: a request for one waits (in sharding) until
/// its entity has finished, then reaches it on another node. The logins are handed off beside them: a login whose code
/// is at the provider finishes its exchange here and then stores its account, through this node's account gateway,
/// which is switched first to send to the accounts' region on another member that is up (<see cref="ThroughAnotherNode"/>,
/// <see cref="RegionOnAnotherNode"/>). This node's region stops once its shards have moved, and a write sent to it
/// afterwards would be lost; the other node's region sends the write to the account's node (this one while its shard has
/// not moved, its next node after). The node's login gateway is switched the same way: the node's HTTP server still takes
/// callbacks, begins and cancels for the rest of the shutdown (up to this phase's timeout while an account finishes), and
/// through the other node's region they reach their logins on the nodes that stay; sent to the stopped region, a
/// callback's browser waited out its ask (a 504) and its login never got its code. Not through a proxy started on this
/// node: the coordinator registers none of a member that is no longer up, so one not registered by then never
/// was. Before it switches, the node starts telling the other members' login gateways that it leaves, those that come up
/// later included (<see cref="LeavingAnnouncer"/>, <see cref="LeavingMembers"/>): it stays an Up member until
/// <c>cluster-leave</c>, so another node leaving at the same time would otherwise pick it as the one that stays.</para>
/// </remarks>
internal static class HandOffAtLeave
{
    /// <summary>The shutdown phase it runs in: the last before the shard regions stop.</summary>
    public const string Phase = "before-cluster-shutdown";

    /// <summary>How long a gateway has to confirm it routes through another node (one local message).</summary>
    private static readonly TimeSpan GatewaySwitchWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds the task to <paramref name="system"/>'s coordinated shutdown for <paramref name="logins"/> and
    /// <paramref name="accounts"/>, its logins' and accounts' regions; <paramref name="loginGateway"/> is this node's
    /// <see cref="ClusterLoginGateway"/>, and <paramref name="gateway"/> completes with this node's account gateway once it
    /// runs (it does not, when O8Actors failed to start here).
    /// </summary>
    public static void Register(ActorSystem system, IActorRef logins, IActorRef accounts, IActorRef loginGateway, Task<IActorRef> gateway, string? role)
    {
        // Both phases' timeouts are derived from how long an entity may take to stop, and checked at start (HandOffTimeouts).
        var shutdown = CoordinatedShutdown.Get(system);
        shutdown.AddTask(Phase, "o8-hand-off", async () =>
        {
            // First the others hear that this node leaves: it stays an Up member until cluster-leave, so a node leaving at
            // the same time would otherwise take it for one that stays and route through its regions once they stop.
            try
            {
                system.ActorOf(LeavingAnnouncer.Props(loginGateway, role), "o8-leaving-announcer");
            }
            catch (Exception e) when (e is InvalidActorNameException or InvalidOperationException)
            {
                // The system stops already, or the announcer runs: the shards must move all the same.
                system.Log.Warning("This node could not tell the others that it leaves ({0}); handing the shards off all the same", e.Message);
            }
            // The shards must move all the same if a gateway does not answer; a login finishing later may then fail to store
            // its account, and a callback landing here may then be lost.
            var switches = new List<Task> { SwitchAsync(system, loginGateway, "login") };
            if (gateway.IsCompletedSuccessfully) switches.Add(SwitchAsync(system, await gateway.ConfigureAwait(false), "account"));
            await Task.WhenAll(switches).ConfigureAwait(false);

            // Each region stops once its shards are handed to the other nodes (each entity once it has finished). The
            // phase's timeout bounds the whole wait; sharding's own region shutdown follows either way.
            await Task.WhenAll(HandOffAsync(logins), HandOffAsync(accounts)).ConfigureAwait(false);
            return Akka.Done.Instance;
        });
    }

    private static async Task SwitchAsync(ActorSystem system, IActorRef gateway, string which)
    {
        try
        {
            await gateway.Ask<Akka.Done>(ThroughAnotherNode.Instance, GatewaySwitchWait).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            system.Log.Warning("The {0} gateway did not switch to another node's region within {1}; handing the shards off all the same",
                which, GatewaySwitchWait);
        }
    }

    private static Task HandOffAsync(IActorRef region)
    {
        var stopped = region.WatchAsync();
        region.Tell(GracefulShutdown.Instance);
        return stopped;
    }
}
