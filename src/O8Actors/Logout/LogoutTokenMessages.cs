namespace O8Actors.Logout;

/// <summary>
/// Accept a validated logout token's <c>jti</c> once (<see cref="LogoutTokenReplayGuard"/>): sent to the accounts'
/// supervisor, which keeps one guard per provider, or on a cluster routes it to the provider's guard entity. Answered
/// with <see cref="LogoutTokenAcceptance"/>.
/// </summary>
/// <param name="Provider">The provider whose token it is (its guard).</param>
/// <param name="JwtId">The token's <c>jti</c>: an identifier, not a secret.</param>
/// <param name="KeepUntil">Until when a replay must be refused (<see cref="LogoutTokenReplayGuard.KeepUntil"/>).</param>
internal sealed record AcceptLogoutToken(string Provider, string JwtId, DateTimeOffset KeepUntil);

/// <summary>The answer to <see cref="AcceptLogoutToken"/>: false when a token with that <c>jti</c> was already accepted.</summary>
internal sealed record LogoutTokenAcceptance(bool Accepted);

/// <summary>
/// Forget an accepted token's <c>jti</c>: its logout failed after it was accepted (an account did not answer), so the
/// provider may post it again and have it carried out. Not answered.
/// </summary>
internal sealed record ForgetLogoutToken(string Provider, string JwtId);
