using O8Actors.Logout;

namespace O8Actors.Cluster;

/// <summary>
/// Sharding's hand-off stop message for a provider's logout-token guard (<see cref="LogoutTokenGuardEntity"/>): its
/// shard moves (a rebalance, or its node leaves the cluster), so it leaves what it holds for its next incarnation
/// (<see cref="LogoutTokenHandOverStore"/>) before it stops. Local only: sharding sends it to the entity on its own node.
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
/// What a provider's guard held when its entity last moved: the value the cluster keeps for the provider
/// (<see cref="LogoutTokenHandOverStore"/>), replicated to the other nodes, so it crosses nodes.
/// </summary>
/// <remarks>An array, not an interface: the remote's JSON serializer must be able to build what the declared type holds.</remarks>
/// <param name="Provider">The provider whose guard it is (the entity id).</param>
/// <param name="Holds">The tokens it remembered (<see cref="LogoutTokenReplayGuard.Export"/>): identifiers and times, no token.</param>
internal sealed record LogoutTokensHandedOver(string Provider, LogoutTokenHold[] Holds);

/// <summary>Leave <paramref name="HandOver"/> for the provider's next guard; answered <see cref="LogoutTokenHandOverSaved"/>. Local.</summary>
internal sealed record SaveLogoutTokenHandOver(LogoutTokensHandedOver HandOver);

/// <summary>The answer to <see cref="SaveLogoutTokenHandOver"/>: stored, on a majority of the nodes if it could be within the wait, else on this one.</summary>
internal sealed class LogoutTokenHandOverSaved
{
    /// <summary>The one instance.</summary>
    public static readonly LogoutTokenHandOverSaved Instance = new();

    private LogoutTokenHandOverSaved()
    {
    }
}

/// <summary>What the provider's previous guard left, if anything; answered <see cref="LogoutTokenHandOverFound"/>. Local.</summary>
internal sealed record FindLogoutTokenHandOver(string Provider);

/// <summary>The answer to <see cref="FindLogoutTokenHandOver"/>: the holds it left (empty when none was left).</summary>
internal sealed record LogoutTokenHandOverFound(LogoutTokenHold[] Holds);
