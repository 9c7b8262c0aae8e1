namespace O8Actors;

/// <summary>
/// A logout token that passed OpenID Connect Back-Channel Logout 1.0 section 2.6: signed by the provider, for this
/// client, fresh, a back-channel logout event, naming a user (<see cref="Subject"/>), a session (<see cref="SessionId"/>)
/// or both. Identifiers only: nothing here is a secret.
/// </summary>
/// <param name="Issuer">The <c>iss</c> claim (the provider's issuer; a spelling the provider documents as an alias reads as the issuer).</param>
/// <param name="Subject">The <c>sub</c> claim: the user whose sessions end; null when the token names a session only.</param>
/// <param name="SessionId">The <c>sid</c> claim: the provider's session that ended; null when the token names a user only.</param>
/// <param name="JwtId">The <c>jti</c> claim (RFC 7519 section 4.1.7, the JWT ID; an identifier, not a secret): a token with the same one is refused as a replay.</param>
/// <param name="IssuedAt">The <c>iat</c> claim.</param>
/// <param name="ExpiresAt">The <c>exp</c> claim, when the provider set one.</param>
public sealed record LogoutToken(string Issuer, string? Subject, string? SessionId, string JwtId, DateTimeOffset IssuedAt, DateTimeOffset? ExpiresAt);
