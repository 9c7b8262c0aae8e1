namespace O8Actors.Providers;

/// <summary>
/// What a strategy's token request must bring back: a token set with an access token. The built-in reader refuses a
/// response without one; an app's own strategy (or an <see cref="OAuthFlow"/> port reading <c>access_token</c> by hand)
/// may hand back null or an empty string, which taken as a success would be stored, cached and served as a token.
/// </summary>
internal static class IssuedTokens
{
    /// <summary>Why <paramref name="tokens"/> are no answer to a token request, or null when they hold an access token.</summary>
    public static TokenExchangeException? Refusal(TokenSet? tokens, string provider) => tokens is { AccessToken.Length: > 0 }
        ? null
        : new TokenExchangeException(tokens is null
            ? $"The provider strategy of '{provider}' returned no tokens (null) for the token request."
            : $"The provider strategy of '{provider}' returned tokens without an access token.");

    /// <summary>
    /// <paramref name="request"/>'s tokens, or <see cref="Refusal"/>: for a refresh, whose next steps (the ID token's
    /// subject, the kept refresh token) read the tokens before the answer is mapped. A code exchange is checked as its
    /// answer is mapped, with no step of its own on a login's path.
    /// </summary>
    public static async Task<TokenSet> WithAccessToken(Task<TokenSet> request, string provider)
    {
        var tokens = await request.ConfigureAwait(false);
        return Refusal(tokens, provider) is { } refusal ? throw refusal : tokens;
    }
}
