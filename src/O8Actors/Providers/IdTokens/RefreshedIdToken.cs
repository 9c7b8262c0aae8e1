namespace O8Actors.Providers.IdTokens;

/// <summary>
/// A refresh's ID token must be about the same user as the account's (OpenID Connect Core 1.0 section 12.2: the same
/// <c>iss</c> and <c>sub</c>). The account then saves it, and its subject labels UserInfo answers as this account's, so a
/// token for another user is refused before it is stored. Checked in the provider actor, after any strategy.
/// </summary>
internal static class RefreshedIdToken
{
    /// <summary>
    /// The refreshed tokens, or an <see cref="IdTokenValidationException"/> when their validated ID token names another
    /// issuer or subject than <paramref name="previous"/>. Without claims on either side there is nothing to compare.
    /// </summary>
    public static Task<TokenSet> SameUser(Task<TokenSet> refresh, IdTokenClaims? previous, string provider) =>
        previous is null ? refresh : CheckAsync(refresh, previous, provider);

    private static async Task<TokenSet> CheckAsync(Task<TokenSet> refresh, IdTokenClaims previous, string provider)
    {
        var tokens = await refresh.ConfigureAwait(false);
        if (tokens.IdTokenClaims is not { } claims) return tokens;
        // The values are personal data and stay out of the message; which claim differs is enough to act on.
        if (!string.Equals(claims.Issuer, previous.Issuer, StringComparison.Ordinal))
            throw new IdTokenValidationException(
                $"The ID token of the token refresh with provider '{provider}' names another issuer than the account's ID token (iss); " +
                "the refreshed tokens were not used (OpenID Connect Core 1.0 section 12.2).") { Issued = tokens };
        if (!string.Equals(claims.Subject, previous.Subject, StringComparison.Ordinal))
            throw new IdTokenValidationException(
                $"The ID token of the token refresh with provider '{provider}' names another user than the account's ID token (sub); " +
                "the refreshed tokens were not used (OpenID Connect Core 1.0 section 12.2).") { Issued = tokens };
        return tokens;
    }
}
