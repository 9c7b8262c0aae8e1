using Akka.Actor;
using Akka.Event;

namespace O8Actors.Persistence;

/// <summary>
/// The store's defaults are one node's: SQLite is a file on that node, and the default key ring a folder there. On a
/// cluster every node then keeps its own tokens under its own keys, and an account whose entity moves to another node
/// finds nothing stored there (its user signs in again). Warned at start, not refused: on a one-node cluster (a
/// development setup) the defaults are right, and how many nodes will join is not known when the store is made.
/// </summary>
internal static class PerNodeStoreWarning
{
    /// <summary>Logs <see cref="For"/> once, as a Warning, when <paramref name="system"/> is a cluster node.</summary>
    public static void LogIfClustered(ActorSystem system, O8PersistenceOptions options)
    {
        if (((ExtendedActorSystem)system).Provider is not Akka.Cluster.IClusterActorRefProvider) return;
        if (For(options) is { } warning) Logging.GetLogger(system, typeof(PersistentTokenStore)).Warning(warning);
    }

    /// <summary>What of <paramref name="options"/> is local to one node, as a warning for a cluster; null when nothing is.</summary>
    public static string? For(O8PersistenceOptions options)
    {
        var local = new List<string>(2);
        // Any SQLite database, not only the default file: SQLite is an embedded database, not one nodes can share.
        if (options.Database == O8PersistenceDatabase.Sqlite) local.Add("a SQLite database (a file on each node)");
        // A key ring folder the app chose may be a shared mount; the default one is in each node's own app data folder.
        if (options.DataProtection is null && !options.UseAppDataProtection && options.KeyRingFolder is null)
            local.Add("the default Data Protection key ring (a folder on each node)");
        if (local.Count == 0) return null;
        return $"WithOAuthAccountsPersistence on a cluster uses {string.Join(" and ", local)}: each node keeps its own tokens, and an " +
            "account that moves to another node finds none there. On more than one node, use PostgreSQL (o.Database = " +
            "O8PersistenceDatabase.PostgreSql) and the app's shared key ring (o.UseAppDataProtection = true).";
    }
}
