namespace O8Actors.Logout;

/// <summary>
/// Accept a validated logout token's <c>jti</c> once (<see cref="LogoutTokenReplayGuard"/>): sent to the accounts'
/// supervisor, which keeps one guard per provider, or on a cluster routes it to the provider's guard entity. Answered
/// with <see cref="LogoutTokenAcceptance"/>.
/// </summary>
/// <param name="Provider">The provider whose token it is (its guard).</param>
/// <param name="JwtId">The token's <c>jti</c>: an identifier, not a secret.</param>
/// <param name="KeepUntil">Until when a replay must be refused (<see cref="LogoutTokenReplayGuard.KeepUntil"/>).</param>
/// <param name="Attempt">This attempt's own id (random), so only it renews or releases its hold.</param>
/// <param name="Lease">
/// How long the attempt holds the token once accepted before a later post may take it over (its node may have stopped):
/// <see cref="BackChannelLogoutCall.Lease"/>, renewed with <see cref="RenewLogoutToken"/> as the logout goes on.
/// </param>
internal sealed record AcceptLogoutToken(string Provider, string JwtId, DateTimeOffset KeepUntil, string Attempt, TimeSpan Lease);

/// <summary>The answer to <see cref="AcceptLogoutToken"/>.</summary>
/// <param name="Check">Whether this attempt carries the logout out, another one is, or it was carried out already.</param>
internal sealed record LogoutTokenAcceptance(LogoutTokenCheck Check);

/// <summary>How a guard (<see cref="LogoutTokenReplayGuard"/>) took a logout token's <c>jti</c>.</summary>
internal enum LogoutTokenCheck
{
    /// <summary>
    /// Not seen, forgotten since its logout failed, or held by an attempt whose lease ran out (its node stopped): this
    /// attempt carries the logout out.
    /// </summary>
    Accepted,

    /// <summary>
    /// Accepted by an attempt that has not ended and whose lease runs: it may still fail (and forget the token), so this
    /// post is neither carried out nor refused for good; the provider may post it again later.
    /// </summary>
    InProgress,

    /// <summary>Its logout was carried out: a replay, refused.</summary>
    Replayed,
}

/// <summary>
/// An accepted token's logout was carried out (the app told, the provider about to get its 200): from now on a post of
/// it is a replay. Answered with <see cref="LogoutTokenCompleted"/>, so the provider's 200 follows the guard's record
/// (on a cluster another node's check of a re-post could otherwise overtake it).
/// </summary>
internal sealed record CompleteLogoutToken(string Provider, string JwtId);

/// <summary>The answer to <see cref="CompleteLogoutToken"/>.</summary>
/// <param name="JwtId">The token's <c>jti</c>.</param>
internal sealed record LogoutTokenCompleted(string JwtId);

/// <summary>
/// Forget an accepted token's <c>jti</c>: <paramref name="Attempt"/>'s logout failed after it was accepted (an account did
/// not answer), so the provider may post it again and have it carried out. Only while that attempt still holds it. Not answered.
/// </summary>
internal sealed record ForgetLogoutToken(string Provider, string JwtId, string Attempt);

/// <summary>
/// <paramref name="Attempt"/> is still carrying the token's logout out (about to sign out its next batch of accounts): its
/// hold runs <paramref name="Lease"/> from now, so a later post is not let to take it over. Not answered.
/// </summary>
internal sealed record RenewLogoutToken(string Provider, string JwtId, string Attempt, TimeSpan Lease);
