namespace O8Actors.Accounts;

/// <summary>Which account a login signed in.</summary>
internal static class AccountKeys
{
    /// <summary>
    /// The validated ID token's subject when there is one (the provider vouches for it), else the app's key; null when
    /// neither is known. An unvalidated ID token's <c>sub</c> is never used: anyone can write one.
    /// </summary>
    public static OAuthAccount? For(string provider, TokenSet tokens, AuthorizationRequest? request)
    {
        if (tokens.IdTokenClaims is { Subject: { Length: > 0 } subject }) return new OAuthAccount(provider, subject);
        return request?.AccountKey is { Length: > 0 } key ? new OAuthAccount(provider, key) : null;
    }
}
