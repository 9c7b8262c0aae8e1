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

    /// <summary>
    /// A login stopped after its callback came and before it ended: its node left or stopped, or its shard moved, and the
    /// login could not finish in the time allowed. A temporary condition of the service (503), not the user's doing.
    /// </summary>
    public static readonly CallbackResponse Interrupted =
        new(503, CallbackPageKind.Failed,
            "This sign-in was interrupted: the server handling it was restarted or moved before it could finish. Start the sign-in again from the application.");
}
