using Akka;
using Akka.Actor;

namespace O8Actors.Runtime;

/// <summary>
/// Graceful stop through <see cref="CoordinatedShutdown"/> (run by Akka.Hosting on host stop, or by anyone calling
/// <c>CoordinatedShutdown.Run</c>): pending logins end as Cancelled before services unbind, then the listener
/// releases its port, so a restarted host can bind it at once.
/// </summary>
internal static class O8Shutdown
{
    public static void Register(ActorSystem system, LoginClient client, TimeSpan timeout)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "o8-cancel-logins", async () =>
        {
            await client.CancelAllAsync(timeout).ConfigureAwait(false);
            return Done.Instance;
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceUnbind, "o8-stop-listener", async () =>
        {
            await client.StopListenerAsync(timeout).ConfigureAwait(false);
            return Done.Instance;
        });
    }
}
