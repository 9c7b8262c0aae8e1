namespace O8Actors.Providers;

/// <summary>
/// What a strategy's token request must bring back: a token set with an access token. The built-in reader refuses a
/// response without one; an app's own strategy (or an <see cref="OAuthFlow"/> port reading <c>access_token</c> by hand)
/// may hand back null or an empty string, which taken as a success would be stored, cached and served as a token.
/// </summary>
internal static class IssuedTokens
{
    /// <summary><paramref name="request"/>'s tokens, or a <see cref="TokenExchangeException"/> when they hold no access token.</summary>
    public static async Task<TokenSet> WithAccessToken(Task<TokenSet> request, string provider)
    {
        var tokens = await request.ConfigureAwait(false);
        return tokens is { AccessToken.Length: > 0 }
            ? tokens
            : throw new TokenExchangeException(tokens is null
                ? $"The provider strategy of '{provider}' returned no tokens (null) for the token request."
                : $"The provider strategy of '{provider}' returned tokens without an access token.");
    }
}
