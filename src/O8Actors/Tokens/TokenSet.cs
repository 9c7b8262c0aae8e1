namespace O8Actors;

/// <summary>
/// The tokens an authorization server returned for one login (RFC 6749 section 5.1).
/// </summary>
/// <remarks>
/// <see cref="ToString"/> never prints a token: records print every property by default, and a
/// <c>TokenSet</c> that reaches a log line must not leak what it carries.
/// </remarks>
/// <param name="AccessToken">The access token.</param>
/// <param name="TokenType">The token type, usually <c>Bearer</c>.</param>
/// <param name="ExpiresAt">When the access token expires, if the server said (from <c>expires_in</c>).</param>
/// <param name="RefreshToken">The refresh token, if one was issued.</param>
/// <param name="Scope">The granted scope, if the server said.</param>
/// <param name="IdToken">The OpenID Connect ID token, if one was issued.</param>
/// <param name="Raw">The raw token response body, for provider-specific fields.</param>
public sealed record TokenSet(
    string AccessToken,
    string TokenType,
    DateTimeOffset? ExpiresAt = null,
    string? RefreshToken = null,
    string? Scope = null,
    string? IdToken = null,
    string? Raw = null)
{
    /// <summary>
    /// The claims of <see cref="IdToken"/> once O8Actors validated it (providers that publish a key set: OpenID Connect
    /// discovery, the Google and Microsoft presets, or <see cref="Providers.GenericOAuthOptions.JwksUri"/> set); null
    /// when no ID token was issued or the provider has no key set to check it against.
    /// </summary>
    public IdTokenClaims? IdTokenClaims { get; init; }

    /// <summary>
    /// The key these tokens are bound to (RFC 9449 DPoP, when the provider's <c>UseDpop</c> is on); null for bearer
    /// tokens. Every call with them needs a proof signed with it: <see cref="AccessTokenHandler"/> (or <see cref="Dpop.DpopHandler"/>) makes it.
    /// </summary>
    public Dpop.DpopKey? DpopKey { get; init; }

    /// <summary>Whether a refresh token was issued.</summary>
    public bool CanRefresh => !string.IsNullOrEmpty(RefreshToken);

    /// <inheritdoc />
    public override string ToString() =>
        // The type and scope as printable text: the built-in reader cleaned them, a custom strategy's may not have.
        $"TokenSet {{ TokenType = {Callback.ExternalText.Clean(TokenType, Callback.ExternalText.MaxErrorLength)}, ExpiresAt = {ExpiresAt:O}, HasRefreshToken = {CanRefresh}, HasIdToken = {IdToken is not null}, IdTokenValidated = {IdTokenClaims is not null}, DpopBound = {DpopKey is not null}, Scope = {Callback.ExternalText.Clean(Scope, int.MaxValue)} }}";
}
