namespace O8Actors.Providers.IdTokens;

/// <summary>
/// What a refresh refused for its ID token hands the provider actor to revoke: only what the provider issued anew. A
/// provider that does not rotate refresh tokens (Google) answers without one, and the answer keeps the one sent; that is
/// the account's own, still live and still held by the account, and revoking it would sign the user out everywhere over
/// a refresh the account never took (the refused answer's access token is still revoked).
/// </summary>
internal static class RefusedRefresh
{
    /// <summary>The refresh's tokens, or its failure without <paramref name="sentRefreshToken"/> among the tokens to revoke.</summary>
    public static async Task<TokenSet> SparingTheSentRefreshToken(Task<TokenSet> refresh, string sentRefreshToken)
    {
        try
        {
            return await refresh.ConfigureAwait(false);
        }
        catch (IdTokenValidationException refused)
            when (refused.Issued is { } issued && string.Equals(issued.RefreshToken, sentRefreshToken, StringComparison.Ordinal))
        {
            throw refused.Carrying(issued with { RefreshToken = null });
        }
    }
}
