using Microsoft.Data.Sqlite;

namespace O8Actors.Persistence;

/// <summary>
/// The lock of a SQLite token database: a file beside it (<c>&lt;database&gt;.lock</c>) opened for this process alone
/// (<c>flock</c> on Unix, a sharing lock on Windows). The operating system drops it when the process ends, a crash
/// included, so a stale lock file never blocks the next start.
/// </summary>
internal sealed class SqliteDatabaseLock(FileStream file) : IDisposable
{
    /// <summary>The lock of <paramref name="connection"/>'s file; null for a database in memory (it is this process's alone).</summary>
    /// <exception cref="InvalidOperationException">Another process holds it, or the lock file could not be opened.</exception>
    public static SqliteDatabaseLock? Take(string connection)
    {
        var builder = new SqliteConnectionStringBuilder(connection);
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:") return null;
        var database = Path.GetFullPath(builder.DataSource);
        var path = database + ".lock";
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = O8Actors.Accounts.PrivateFiles.File;
        try
        {
            return new SqliteDatabaseLock(new FileStream(path, options));
        }
        catch (IOException e) when (O8Actors.Accounts.PrivateFiles.IsLockedElsewhere(e))
        {
            throw DatabaseLock.HeldElsewhere(database);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No contention (no folder, no permission): the store cannot tell whether it is alone, so it does not start.
            throw new InvalidOperationException($"The token database {database} could not be locked for this process: its lock " +
                $"file {path} did not open ({e.Message}).", e);
        }
    }

    /// <summary>Releases the lock (the file stays: deleting it could race a process that just opened it).</summary>
    public void Dispose() => file.Dispose();
}
