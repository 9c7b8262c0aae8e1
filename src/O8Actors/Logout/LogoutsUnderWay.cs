using System.Collections.Concurrent;

namespace O8Actors.Logout;

/// <summary>
/// The back-channel logouts of this process under way, from their post's arrival to the end of their carrying-out,
/// whether or not their caller still waits (a provider's request that went away leaves its logout running). A graceful
/// stop waits for these before the accounts stop: a logout cut off there would leave the session's later accounts
/// signed in and the app's own part (<c>OnSignedOut</c>) not run, and most providers post a logout token once (Keycloak,
/// Duende).
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
    /// Waits until no logout runs, those that start meanwhile included (a post under way when the stop began is accepted
    /// later), or <paramref name="timeout"/> has passed; never throws: their outcomes are their callers' or the log's.
    /// </summary>
    public async Task WaitAsync(TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_running.Keys.ToArray() is { Length: > 0 } running && timeout - clock.Elapsed is var left && left > TimeSpan.Zero)
        {
            try
            {
                await Task.WhenAll(running).WaitAsync(left).ConfigureAwait(false);
            }
            catch
            {
                // A logout that failed has told its caller or the log; one that did not end in time ends with the actor system.
            }
        }
    }
}
