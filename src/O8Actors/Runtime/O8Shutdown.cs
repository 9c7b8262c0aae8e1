using Akka;
using Akka.Actor;

namespace O8Actors.Runtime;

/// <summary>
/// Graceful stop through <see cref="CoordinatedShutdown"/> (run by Akka.Hosting on host stop, or by anyone calling
/// <c>CoordinatedShutdown.Run</c>): pending logins end as Cancelled and accepted back-channel logouts are carried out
/// before services unbind, then the listener releases its port, so a restarted host can bind it at once.
/// </summary>
internal static class O8Shutdown
{
    public static void Register(ActorSystem system, LoginClient client, TimeSpan timeout)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        // Accounts held on this node (not sharded: a cluster hands its entities off at its own phase) finish a refresh at the
        // token endpoint and the save of what it brings before the system stops, after the logins (one task: the phase's
        // tasks run at once, and the phase's timeout is sized for one).
        var settleAccounts = !O8Guardian.AccountsRouted(system.Settings.Config);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "o8-cancel-logins", async () =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await client.CancelAllAsync(timeout).ConfigureAwait(false);
            // Accepted back-channel logouts sign their accounts out through the accounts' actors: before those stop.
            if (timeout - clock.Elapsed is var forLogouts && forLogouts > TimeSpan.Zero) await client.WaitForLogoutsAsync(forLogouts).ConfigureAwait(false);
            var left = timeout - clock.Elapsed;
            if (settleAccounts && left > TimeSpan.Zero) await client.SettleAccountsAsync(left).ConfigureAwait(false);
            return Done.Instance;
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceUnbind, "o8-stop-listener", async () =>
        {
            await client.StopListenerAsync(timeout).ConfigureAwait(false);
            return Done.Instance;
        });
    }
}
