using Akka.Actor;

namespace O8Actors.Persistence;

/// <summary>
/// One actor system per SQLite token database, outside a cluster. Each register keeps its account's tokens in memory
/// while it is busy, so a second process on the same database would keep serving (and refreshing with) a refresh token
/// the first has rotated, and a provider that detects reuse then revokes the whole grant; the journal only refuses the
/// loser's later write. So a store outside a cluster takes an exclusive lock on its SQLite file at start, held until the
/// actor system terminates; a second one waits a while for the first to stop (a restart whose previous instance is still
/// stopping) and is then refused, naming the database. A cluster takes none: its nodes share one database on purpose,
/// and sharding gives each account one register in the whole cluster. PostgreSQL is not locked (see the package
/// README's Limits for why): two processes outside a cluster must not share one PostgreSQL database.
/// </summary>
internal static class DatabaseLock
{
    /// <summary>
    /// How long a start waits for another process to release the database before it is refused: long enough for an app
    /// restarted while its previous instance still stops (an IIS overlapped recycle), short enough to fail a real clash
    /// before the app is expected to serve.
    /// </summary>
    internal static readonly TimeSpan WaitForOtherProcess = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Takes the lock of <paramref name="connection"/>'s SQLite file for <paramref name="system"/> (released when it
    /// terminates), unless the system is a cluster node, the database is PostgreSQL, or it is in this process's memory.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another process (or actor system) held the database for longer than
    /// <see cref="O8PersistenceOptions.DatabaseLockWait"/>, or it could not be locked.</exception>
    public static void TakeIfLocal(ActorSystem system, O8PersistenceOptions options, string connection)
    {
        if (((ExtendedActorSystem)system).Provider is Akka.Cluster.IClusterActorRefProvider) return;
        if (options.Database != O8PersistenceDatabase.Sqlite) return;
        var held = SqliteDatabaseLock.Take(connection, options.DatabaseLockWait, system.WhenTerminated,
            Akka.Event.Logging.GetLogger(system, typeof(DatabaseLock)));
        if (held is null) return;
        try
        {
            system.RegisterOnTermination(held.Dispose);
        }
        catch
        {
            // The system is already terminating: nothing would ever release the lock, and the next start would be refused.
            held.Dispose();
            throw;
        }
    }

    /// <summary>The refusal when another holder kept <paramref name="database"/> while this start <paramref name="waited"/>: what it is and what to do.</summary>
    internal static InvalidOperationException HeldElsewhere(string database, TimeSpan waited) => new(
        $"The token database {database} is in use by another process (or actor system) that is not in one Akka.NET cluster " +
        $"with this one (waited {waited.TotalSeconds:0.#} s for it to stop; O8:Persistence:DatabaseLockWait sets how long, for a restart that overlaps the previous instance). Two such processes must not share one token database: " +
        "each keeps the accounts' tokens in memory, and one would refresh with a refresh token the other has already rotated " +
        "(a provider that detects reuse revokes the grant). Run one process per database (give each instance its own database: " +
        "O8:Persistence:ConnectionString, or AppId for the default SQLite file), or join the processes into one cluster " +
        "(WithOAuthLoginsCluster), whose nodes share a database safely.");
}
