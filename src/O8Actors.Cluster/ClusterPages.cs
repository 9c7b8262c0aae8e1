using O8Actors.Callback;

namespace O8Actors.Cluster;

/// <summary>The page a cluster adds to the listener's own.</summary>
internal static class ClusterPages
{
    /// <summary>
    /// A callback whose login no node holds: it ended, expired, its node left, or the state was never issued. Sharding
    /// would create an entity for any id; a fresh entity answers this and stops, and never starts a login.
    /// </summary>
    public static readonly CallbackResponse ExpiredOrUnknown =
        new(400, CallbackPageKind.BadRequest, "This sign-in has expired or is unknown. Start again from the application.");
}
