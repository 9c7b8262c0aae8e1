using O8Actors.Providers.IdTokens;

namespace O8Actors.Providers;

/// <summary>
/// A refresh's answer as every caller gets it (the account's renewal and <see cref="IOAuthLogins.RefreshAsync"/> alike),
/// whatever strategy read it: the built-in ones, a custom one, an <see cref="OAuthFlow"/> subclass.
/// </summary>
internal static class RefreshAnswer
{
    /// <summary>
    /// The refresh's tokens, keeping <paramref name="sentRefreshToken"/> when the provider issued no new one (none or an
    /// empty one, as the built-in token reader takes it); or its
    /// failure without <paramref name="sentRefreshToken"/> among the tokens to revoke.
    /// </summary>
    /// <remarks>
    /// A provider that does not rotate refresh tokens (Google) answers without one, and the client keeps the one it has
    /// (RFC 6749 section 6): handed back without it, a caller of the public refresh would have nothing to refresh with
    /// next time. For the same reason a refresh refused for its ID token spares that token: it is the account's own,
    /// still live and still held, and revoking it would sign the user out everywhere over a refresh the account never
    /// took (the refused answer's access token is still revoked).
    /// </remarks>
    public static async Task<TokenSet> KeepingTheSentRefreshToken(Task<TokenSet> refresh, string sentRefreshToken)
    {
        TokenSet tokens;
        try
        {
            tokens = await refresh.ConfigureAwait(false);
        }
        catch (IdTokenValidationException refused)
            when (refused.Issued is { } issued && string.Equals(issued.RefreshToken, sentRefreshToken, StringComparison.Ordinal))
        {
            throw refused.Carrying(issued with { RefreshToken = null });
        }
        return string.IsNullOrEmpty(tokens.RefreshToken) ? tokens with { RefreshToken = sentRefreshToken } : tokens;
    }
}
