namespace O8Actors;

/// <summary>What happened at the provider when an account signed out.</summary>
public enum RevocationOutcome
{
    /// <summary>The provider revoked the tokens (RFC 7009).</summary>
    Revoked,

    /// <summary>The provider has no revocation endpoint (none in its metadata or configuration); the tokens stay valid there until they expire.</summary>
    NotSupported,

    /// <summary>The revocation request failed (see <see cref="SignOutResult.Reason"/>); the tokens may still be valid at the provider.</summary>
    Failed,

    /// <summary>No tokens were stored for the account.</summary>
    NothingToRevoke,
}

/// <summary>What happened to the user's browser session at the provider when an account signed out.</summary>
public enum ProviderSessionOutcome
{
    /// <summary>Not asked for (<see cref="SignOutOptions.EndProviderSession"/> was false): the provider's session, if any, stays.</summary>
    NotRequested,

    /// <summary>
    /// The provider sent the browser back from its end-session endpoint (OpenID Connect RP-Initiated Logout), which it does
    /// once it has ended its session. A provider that asks the user to confirm may send it back as well when the user
    /// chose to stay signed in there: the protocol does not tell the two apart.
    /// </summary>
    Ended,

    /// <summary>The provider has no <c>end_session_endpoint</c> (none in its metadata or configuration); its session stays.</summary>
    NotSupported,

    /// <summary>
    /// The browser did not come back within the timeout (the user closed the tab, or the provider refused the request and
    /// showed an error page): the provider's session may still be open.
    /// </summary>
    TimedOut,

    /// <summary>The provider's session could not be ended (see <see cref="SignOutResult.ProviderSessionReason"/>): it may still be open.</summary>
    Failed,
}

/// <summary>
/// The result of <see cref="IOAuthLogins.SignOutAsync(OAuthAccount, System.Threading.CancellationToken)"/>: the account is
/// forgotten locally (its stored tokens removed). A failed revocation is reported here rather than thrown, since the
/// sign-out itself happened; a store that cannot read or remove the tokens fails the sign-out instead (no result).
/// </summary>
/// <param name="Account">The account signed out.</param>
/// <param name="Revocation">What the provider did.</param>
/// <param name="Reason">Why the revocation failed (safe to log: no token in it); null otherwise.</param>
public sealed record SignOutResult(OAuthAccount Account, RevocationOutcome Revocation, string? Reason = null)
{
    /// <summary>What happened to the provider's browser session (<see cref="SignOutOptions.EndProviderSession"/>).</summary>
    public ProviderSessionOutcome ProviderSession { get; init; } = ProviderSessionOutcome.NotRequested;

    /// <summary>Why the provider's session was not ended, when it was asked for and was not (safe to log: no token in it); null otherwise.</summary>
    public string? ProviderSessionReason { get; init; }
}
