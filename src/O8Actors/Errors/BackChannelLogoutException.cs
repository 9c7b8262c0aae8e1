namespace O8Actors;

/// <summary>Why <see cref="IOAuthLogins.HandleBackChannelLogoutAsync"/> signed nobody out.</summary>
public enum BackChannelLogoutFailure
{
    /// <summary>
    /// The provider validates no ID tokens here (no key set: <c>JwksUri</c> unset, or no <c>jwks_uri</c> in its metadata),
    /// so a logout token from it cannot be checked. Nothing was changed.
    /// </summary>
    NotSupported,

    /// <summary>
    /// The logout token failed a check of OpenID Connect Back-Channel Logout 1.0 section 2.6 (signature, issuer, audience,
    /// lifetime, <c>events</c>, <c>sub</c>/<c>sid</c>, no <c>nonce</c>, its type); the message names the check.
    /// </summary>
    InvalidToken,

    /// <summary>A logout token with this <c>jti</c> was already accepted and its logout carried out (a replay). Nothing was changed.</summary>
    Replayed,

    /// <summary>
    /// The provider's metadata or key set could not be read, or a check did not finish in time. Nothing was changed and the
    /// token was not spent: the fault is this side's, so the provider is answered 500 and its retry is carried out.
    /// </summary>
    Failed,

    /// <summary>
    /// A logout token with this <c>jti</c> is being carried out by an earlier post that has not ended (the provider posted
    /// it again after its own timeout). Nothing was changed here: should that post fail, the token is not spent, so the
    /// provider is answered 503 and may post it again later (a later post of a completed one is refused as a replay). The
    /// earlier post holds the token for a lease it renews as it goes (about 3 min 40 s with the default settings): should
    /// its node stop before it ends, a post after the lease carries the logout out.
    /// </summary>
    InProgress,
}

/// <summary>
/// A back-channel logout request (OpenID Connect Back-Channel Logout 1.0) was refused: no account was signed out. The
/// message names the provider and the reason, never the logout token or any part of it, so it may be returned to the
/// provider as the <c>error_description</c> of the answer (400, or 500 for <see cref="BackChannelLogoutFailure.Failed"/>, 503
/// for <see cref="BackChannelLogoutFailure.InProgress"/>).
/// </summary>
/// <param name="failure">Why nobody was signed out.</param>
/// <param name="message">What happened, for a person.</param>
/// <param name="innerException">The transport error, if any.</param>
public sealed class BackChannelLogoutException(BackChannelLogoutFailure failure, string message, Exception? innerException = null)
    : OAuthFlowException(message, innerException)
{
    /// <summary>
    /// Why nobody was signed out, and so what <c>MapOAuthBackChannelLogout</c>'s endpoint answers the provider: 400 for a
    /// token that failed a check, a replay or a provider without a key set (<see cref="BackChannelLogoutFailure.InvalidToken"/>,
    /// <see cref="BackChannelLogoutFailure.Replayed"/>, <see cref="BackChannelLogoutFailure.NotSupported"/>), 500 for a
    /// fault on this side that the provider's retry may get past (<see cref="BackChannelLogoutFailure.Failed"/>), 503 while
    /// an earlier post of the same token still runs (<see cref="BackChannelLogoutFailure.InProgress"/>).
    /// </summary>
    public BackChannelLogoutFailure Failure { get; } = failure;
}
