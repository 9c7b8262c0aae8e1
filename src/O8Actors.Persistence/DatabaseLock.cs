using Akka.Actor;

namespace O8Actors.Persistence;

/// <summary>
/// One actor system per token database, outside a cluster. Each register keeps its account's tokens in memory while
/// it is busy, so a second process on the same database would keep serving (and refreshing with) a refresh token the
/// first has rotated, and a provider that detects reuse then revokes the whole grant; the journal only refuses the
/// loser's later write. So a store outside a cluster takes an exclusive lock on its database at start, held until the
/// actor system terminates, and a second one is refused at once, naming the database. A cluster takes none: its nodes
/// share one database on purpose, and sharding gives each account one register in the whole cluster.
/// </summary>
internal static class DatabaseLock
{
    /// <summary>
    /// Takes the lock of <paramref name="connection"/>'s database for <paramref name="system"/> (released when it
    /// terminates), unless the system is a cluster node or the database is one of this process's memory.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another process (or actor system) holds the database, or it could not be locked.</exception>
    public static void TakeIfLocal(ActorSystem system, O8PersistenceOptions options, string connection)
    {
        if (((ExtendedActorSystem)system).Provider is Akka.Cluster.IClusterActorRefProvider) return;
        IDisposable? held = options.Database switch
        {
            O8PersistenceDatabase.Sqlite => SqliteDatabaseLock.Take(connection),
            O8PersistenceDatabase.PostgreSql => PostgreSqlDatabaseLock.Take(connection, options.PluginId, options.Timeout),
            _ => null,
        };
        if (held is not null) system.RegisterOnTermination(held.Dispose);
    }

    /// <summary>The refusal when another holder has <paramref name="database"/>: what it is and what to do.</summary>
    internal static InvalidOperationException HeldElsewhere(string database) => new(
        $"The token database {database} is in use by another process (or actor system) that is not in one Akka.NET cluster " +
        "with this one. Two such processes must not share one token database: each keeps the accounts' tokens in memory, and " +
        "one would refresh with a refresh token the other has already rotated (a provider that detects reuse revokes the grant). " +
        "Run one process per database (give each instance its own database: O8:Persistence:ConnectionString, or AppId for the " +
        "default SQLite file), or join the processes into one cluster (WithOAuthLoginsCluster), whose nodes share a database safely.");
}
