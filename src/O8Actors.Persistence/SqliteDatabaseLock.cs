using System.Diagnostics;
using Akka.Event;

namespace O8Actors.Persistence;

/// <summary>
/// The lock of a SQLite token database: a file beside it (<c>&lt;database&gt;.lock</c>) opened for this process alone
/// (<c>flock</c> on Unix, a sharing lock on Windows). The operating system drops it when the process ends, a crash
/// included, so a stale lock file never blocks the next start.
/// </summary>
internal sealed class SqliteDatabaseLock(FileStream file) : IDisposable
{
    // .NET has no blocking flock: a held lock is tried again at this pace until the wait is over.
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The lock of <paramref name="connection"/>'s file, waiting up to <paramref name="wait"/> for another process to
    /// release it (logged once at Information), or until <paramref name="stopped"/> completes; null for a database in
    /// memory (it is this process's alone).
    /// </summary>
    /// <exception cref="InvalidOperationException">Another process held it for the whole wait, or the lock file could not be opened.</exception>
    public static SqliteDatabaseLock? Take(string connection, TimeSpan wait, Task stopped, ILoggingAdapter log)
    {
        if (SqliteDatabaseFile.Of(connection) is not { } database) return null;
        var path = database + ".lock";
        var started = Stopwatch.GetTimestamp();
        var logged = false;
        while (true)
        {
            try
            {
                return new SqliteDatabaseLock(O8Actors.Accounts.PrivateFiles.OpenExclusiveLock(path));
            }
            catch (IOException e) when (O8Actors.Accounts.PrivateFiles.IsLockedElsewhere(e))
            {
                var left = wait - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero || stopped.IsCompleted) throw DatabaseLock.HeldElsewhere(database, Stopwatch.GetElapsedTime(started));
                if (!logged)
                    log.Info("The token database {0} is in use by another process; waiting up to {1:0.#} s for it to stop before this start is refused.",
                        database, wait.TotalSeconds);
                logged = true;
                // The store is made in a synchronous setup at start; an actor system stopped meanwhile ends the wait.
                ((IAsyncResult)stopped).AsyncWaitHandle.WaitOne(left < RetryEvery ? left : RetryEvery);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // No contention (no folder, no permission): the store cannot tell whether it is alone, so it does not start.
                throw new InvalidOperationException($"The token database {database} could not be locked for this process: its lock " +
                    $"file {path} did not open ({e.Message}).", e);
            }
        }
    }

    /// <summary>Releases the lock (the file stays: deleting it could race a process that just opened it).</summary>
    public void Dispose() => file.Dispose();
}
