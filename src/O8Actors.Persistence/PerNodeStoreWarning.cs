using Akka.Actor;
using Akka.Event;

namespace O8Actors.Persistence;

/// <summary>
/// The store's defaults are one node's: SQLite is a file on that node, and the default key ring a folder there. On a
/// cluster every node then keeps its own tokens under its own keys, and an account whose entity moves to another node
/// finds nothing stored there (its user signs in again), or an older copy of its own. Warned at start, not refused: on a one-node cluster (a
/// development setup) the defaults are right, and how many nodes will join is not known when the store is made.
/// </summary>
internal static class PerNodeStoreWarning
{
    /// <summary>Logs <see cref="AtStart"/> once, as a Warning.</summary>
    public static void LogAtStart(ActorSystem system, O8PersistenceOptions options)
    {
        if (AtStart(((ExtendedActorSystem)system).Provider is Akka.Cluster.IClusterActorRefProvider, options) is { } warning)
            Logging.GetLogger(system, typeof(PersistentTokenStore)).Warning(warning);
    }

    /// <summary>
    /// What of <paramref name="options"/> is one machine's where that loses tokens: on a cluster node <see cref="For"/>;
    /// elsewhere <see cref="KeysOnThisMachine"/>; null when nothing is.
    /// </summary>
    public static string? AtStart(bool clustered, O8PersistenceOptions options) => clustered ? For(options) : KeysOnThisMachine(options);

    /// <summary>
    /// A database that outlives this machine's data folder (PostgreSQL, or a SQLite file elsewhere, such as a mounted
    /// volume) whose tokens are encrypted with the default key ring, a folder in that data folder: a redeploy to a new
    /// container or machine makes a new key ring, and every stored account then reads as signed out (its refresh token
    /// never revoked). Null when the database is in that folder too (the default SQLite file), or in memory.
    /// </summary>
    public static string? KeysOnThisMachine(O8PersistenceOptions options)
    {
        if (!UsesDefaultKeyRing(options)) return null;
        var database = options.Database == O8PersistenceDatabase.PostgreSql ? "PostgreSQL"
            : options.EffectiveConnectionString is { Length: > 0 } sqlite && SqliteDatabaseFile.Of(sqlite) is { } file && !IsUnder(file, O8PersistenceOptions.DataFolder)
                ? $"the SQLite database {file}"
                : null;
        return database is null ? null
            : $"WithOAuthAccountsPersistence keeps the tokens in {database} but encrypts them with the default key ring, a folder on " +
              $"this machine ({Path.Combine(O8PersistenceOptions.DataFolder, "keys")}): on a new machine or container (a redeploy) " +
              "a new key ring reads every stored account as signed out. Keep the key ring where the database is kept (o.KeyRingFolder " +
              "on a persistent volume) or use the app's Data Protection with its keys persisted (o.UseAppDataProtection = true).";
    }

    private static bool IsUnder(string file, string folder)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
        return Path.GetFullPath(file).StartsWith(root, OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
            ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    private static bool UsesDefaultKeyRing(O8PersistenceOptions options) =>
        options.DataProtection is null && !options.UseAppDataProtection && options.KeyRingFolder is null;

    /// <summary>What of <paramref name="options"/> is local to one node, as a warning for a cluster; null when nothing is.</summary>
    public static string? For(O8PersistenceOptions options)
    {
        var local = new List<string>(2);
        // Any SQLite database, not only the default file: SQLite is an embedded database, not one nodes can share.
        if (options.Database == O8PersistenceDatabase.Sqlite) local.Add("a SQLite database (a file on each node)");
        // A key ring folder the app chose may be a shared mount; the default one is in each node's own app data folder.
        if (UsesDefaultKeyRing(options))
            local.Add("the default Data Protection key ring (a folder on each node)");
        if (local.Count == 0) return null;
        return $"WithOAuthAccountsPersistence on a cluster uses {string.Join(" and ", local)}: each node keeps its own tokens, and an " +
            "account that moves to another node finds none there, or an older copy from an earlier stay whose refresh token was " +
            "spent since (refreshing with it can make the provider revoke the grant). On more than one node, use PostgreSQL (o.Database = " +
            "O8PersistenceDatabase.PostgreSql) and the app's shared key ring (o.UseAppDataProtection = true).";
    }
}
