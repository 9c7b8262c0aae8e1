namespace O8Actors;

/// <summary>
/// An access token served by <see cref="IOAuthLogins.GetAccessTokenAsync"/>: from the account's cache, or freshly
/// refreshed. It carries no refresh token: the account keeps that, so that no other code can spend (and, with rotation,
/// burn) it behind the account's back.
/// </summary>
/// <param name="Account">Whose token it is.</param>
/// <param name="Token">The access token (a secret).</param>
/// <param name="TokenType">Usually <c>Bearer</c>.</param>
/// <param name="ExpiresAt">When it expires, if the provider said.</param>
/// <param name="Scope">The granted scope, if the provider said.</param>
/// <remarks><see cref="ToString"/> never prints the token.</remarks>
public sealed record AccessToken(OAuthAccount Account, string Token, string TokenType, DateTimeOffset? ExpiresAt, string? Scope)
{
    /// <summary>
    /// The key the token is bound to when its provider uses DPoP (RFC 9449); null for a bearer token. A call with the
    /// token needs a proof signed with it: <see cref="AccessTokenHandler"/> does that for you.
    /// </summary>
    public Dpop.DpopKey? DpopKey { get; init; }

    /// <summary>
    /// The <c>sub</c> of the account's validated ID token, null when it signed in without one (an identifier, not a
    /// secret): what a UserInfo answer must be about (OpenID Connect Core 1.0 section 5.3.4). Public so that it travels
    /// with the token between the nodes of a cluster.
    /// </summary>
    public string? IdTokenSubject { get; init; }

    /// <summary>
    /// Whether a token of <paramref name="tokenType"/> can be presented to a server: a bearer token (RFC 6750), or one
    /// bound to <paramref name="dpopKey"/> (RFC 9449). The one rule of <see cref="AccessTokenHandler"/> and UserInfo calls.
    /// </summary>
    internal static bool CanBePresented(string tokenType, Dpop.DpopKey? dpopKey) =>
        dpopKey is not null || string.Equals(tokenType, "Bearer", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override string ToString() =>
        // The type and scope as printable text: the built-in reader cleaned them, a custom strategy's may not have.
        $"AccessToken {{ Account = {Account}, TokenType = {Callback.ExternalText.Clean(TokenType, Callback.ExternalText.MaxErrorLength)}, ExpiresAt = {ExpiresAt:O}, Scope = {Callback.ExternalText.Clean(Scope, int.MaxValue)}, DpopBound = {DpopKey is not null} }}";
}
