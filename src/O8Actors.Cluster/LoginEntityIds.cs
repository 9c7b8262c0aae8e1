using O8Actors.Flows;

namespace O8Actors.Cluster;

/// <summary>
/// The routing id of a cluster login: 16 random bytes (base64url, 22 characters) minted by the node that begins the
/// login. The login's <c>state</c> is <c>{entityId}.{256-bit secret}</c>, so any node reads the entity id from a
/// callback's state and hands the callback to that entity; only the entity id, never the state, is what sharding sees
/// (entity id, actor name, shard id).
/// </summary>
internal static class LoginEntityIds
{
    private const int Bytes = 16;

    /// <summary>Length of an entity id: 16 bytes in base64url without padding.</summary>
    public static readonly int Length = FlowSecrets.TokenLength(Bytes);

    /// <summary>A fresh entity id.</summary>
    public static string Mint() => FlowSecrets.RandomToken(Bytes);

    /// <summary>
    /// The entity id a state starts with, when the state has the cluster shape (<c>{22 base64url characters}.{secret}</c>).
    /// Anything else cannot belong to a cluster login and is refused without a message to any entity.
    /// </summary>
    public static bool TryGetEntityId(string? state, out string entityId)
    {
        entityId = "";
        if (state is null || state.Length <= Length + 1 || state[Length] != '.' || !FlowSecrets.IsToken(state.AsSpan(0, Length), Bytes)) return false;
        entityId = state[..Length];
        return true;
    }

    /// <summary>Whether <paramref name="entityId"/> could have come from <see cref="Mint"/>.</summary>
    public static bool IsValid(string? entityId) => entityId is not null && FlowSecrets.IsToken(entityId, Bytes);
}
