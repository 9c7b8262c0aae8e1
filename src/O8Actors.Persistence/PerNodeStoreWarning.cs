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
    /// <summary>
    /// Logs once, as a Warning, what of <paramref name="options"/> is one machine's where that loses tokens: on a cluster
    /// node <see cref="For"/>; elsewhere <see cref="KeysOnThisMachine"/>.
    /// </summary>
    public static void LogAtStart(ActorSystem system, O8PersistenceOptions options)
    {
        var clustered = ((ExtendedActorSystem)system).Provider is Akka.Cluster.IClusterActorRefProvider;
        if ((clustered ? For(options) : KeysOnThisMachine(options)) is { } warning)
            Logging.GetLogger(system, typeof(PersistentTokenStore)).Warning(warning);
    }

    /// <summary>
    /// A durable database (PostgreSQL) whose tokens are encrypted with the default key ring, a folder on this machine: a
    /// redeploy to a new container or machine makes a new key ring, and every stored account then reads as signed out
    /// (its refresh token never revoked). Null for SQLite (its file is on this machine too, and goes with the keys).
    /// </summary>
    public static string? KeysOnThisMachine(O8PersistenceOptions options) =>
        options.Database == O8PersistenceDatabase.PostgreSql && UsesDefaultKeyRing(options)
            ? "WithOAuthAccountsPersistence keeps the tokens in PostgreSQL but encrypts them with the default key ring, a folder " +
              $"on this machine ({Path.Combine(O8PersistenceOptions.DataFolder, "keys")}): on a new machine or container (a redeploy) a " +
              "new key ring reads every stored account as signed out. Keep the key ring where it lasts (o.KeyRingFolder on a " +
              "persistent volume) or use the app's Data Protection with its keys persisted (o.UseAppDataProtection = true)."
            : null;

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
