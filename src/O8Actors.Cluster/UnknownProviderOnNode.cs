using O8Actors.Flows;

namespace O8Actors.Cluster;

/// <summary>
/// A cluster login runs on whichever node holds its entity, with that node's providers: a login that ends because its
/// provider is unknown says it was unknown there, which may not be the node that began it (nodes configured apart).
/// </summary>
internal static class UnknownProviderOnNode
{
    /// <summary><paramref name="outcome"/>, its reason naming the node that ran the login when its provider was unknown there.</summary>
    public static LoginOutcome Explain(LoginOutcome outcome) => outcome is LoginFailed { Failure: LoginFailure.UnknownProvider } failed
        ? failed with
        {
            Reason = $"{failed.Reason.TrimEnd('.')} on the node that ran this login. Every node of a cluster must register the same " +
                "providers at start (in code or in the O8:Providers configuration section).",
        }
        : outcome;
}
