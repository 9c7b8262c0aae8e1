using Akka.Actor;
using Akka.Event;

namespace O8Actors.Cluster;

/// <summary>
/// Tells the operator, once when a node starts, that its accounts keep their tokens in its own memory: an account's
/// entity moves between nodes (a rolling deploy, a rebalance), and on its next node nothing is stored, so its user is
/// signed out while the refresh token stays live at the provider. Warned, not refused: a one-node cluster (a development
/// setup) loses nothing by it, and whether more nodes will join is not known at start.
/// </summary>
internal static class InMemoryAccountsWarning
{
    /// <summary>The warning.</summary>
    public const string Warning =
        "This cluster node keeps its accounts' tokens in its own memory (InMemoryTokenStore, the store when neither an ITokenStore " +
        "nor WithOAuthAccountsPersistence is configured): an account that moves to another node (a rolling deploy, a rebalance) " +
        "finds no tokens there, so its user must sign in again while the refresh token stays live at the provider. Give every node " +
        "the same database with O8Actors.Persistence (WithOAuthAccountsPersistence with PostgreSQL); see \"Accounts\" in the " +
        "O8Actors.Cluster README (https://github.com/o8actors/O8Actors/blob/main/src/O8Actors.Cluster/README.md#accounts).";

    /// <summary>Logs <see cref="Warning"/> on <paramref name="system"/> (once per node: its accounts start once).</summary>
    public static void Log(ActorSystem system) => Logging.GetLogger(system, typeof(InMemoryAccountsWarning)).Warning(Warning);
}
