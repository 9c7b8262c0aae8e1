using System.Collections.Concurrent;

namespace O8Actors.Logout;

/// <summary>
/// The back-channel logouts of this process that were accepted and are still being carried out, whether or not their
/// caller still waits (a provider's request that went away leaves its logout running). A graceful stop waits for them
/// before the accounts stop: a logout cut off there would leave the session's later accounts signed in and the app's
/// own part (<c>OnSignedOut</c>) not run, and most providers post a logout token once (Keycloak, Duende).
/// </summary>
internal sealed class LogoutsUnderWay
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Counts <paramref name="carryingOut"/> until it ends, however it ends.</summary>
    public void Track(Task carryingOut)
    {
        _running.TryAdd(carryingOut, 0);
        // Removed once ended (synchronously when it already has), so the table holds only what runs.
        carryingOut.ContinueWith(static (ended, table) => ((ConcurrentDictionary<Task, byte>)table!).TryRemove(ended, out _), _running,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>How many run now.</summary>
    public int Count => _running.Count;

    /// <summary>
    /// Waits until every logout running now has ended (each bounded by its own steps' waits, except the app's part), or
    /// <paramref name="timeout"/> has passed; never throws: their outcomes are the business of their callers or the log.
    /// </summary>
    public async Task WaitAsync(TimeSpan timeout)
    {
        var running = _running.Keys.ToArray();
        if (running.Length == 0) return;
        try
        {
            await Task.WhenAll(running).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch
        {
            // A logout that failed has told its caller or the log; one that did not end in time ends with the actor system.
        }
    }
}
