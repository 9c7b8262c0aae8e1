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

/// <summary>
/// The result of <see cref="IOAuthLogins.SignOutAsync"/>. The account is forgotten locally in every case; a failed
/// revocation is reported here rather than thrown, since the sign-out itself happened.
/// </summary>
/// <param name="Account">The account signed out.</param>
/// <param name="Revocation">What the provider did.</param>
/// <param name="Reason">Why the revocation failed (safe to log: no token in it); null otherwise.</param>
public sealed record SignOutResult(OAuthAccount Account, RevocationOutcome Revocation, string? Reason = null);
