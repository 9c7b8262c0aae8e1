using O8Actors.Logout;

namespace O8Actors.Cluster;

/// <summary>
/// Sharding's hand-off stop message for a provider's logout-token guard (<see cref="LogoutTokenGuardEntity"/>): its
/// shard moves (a rebalance, or its node leaves the cluster), so it hands what it holds to its next incarnation
/// (<see cref="LogoutTokensHandedOver"/>) before it stops. Local only: sharding sends it to the entity on its own node.
/// </summary>
internal sealed class LogoutTokenGuardHandOff
{
    /// <summary>The one instance.</summary>
    public static readonly LogoutTokenGuardHandOff Instance = new();

    private LogoutTokenGuardHandOff()
    {
    }
}

/// <summary>
/// What a provider's guard held when its entity moved, sent through the guards' shard region to the provider's id, so it
/// reaches the entity at the shard's next home (the region keeps it until the coordinator has allocated the shard again),
/// which merges it into its own guard (<see cref="LogoutTokenReplayGuard.Merge"/>). Crosses nodes.
/// </summary>
/// <remarks>An array, not an interface: the remote's JSON serializer must be able to build what the declared type holds.</remarks>
/// <param name="Provider">The provider whose guard it is (the entity id).</param>
/// <param name="Holds">The tokens it remembered (<see cref="LogoutTokenReplayGuard.Export"/>): identifiers and times, no token.</param>
internal sealed record LogoutTokensHandedOver(string Provider, LogoutTokenHold[] Holds);
