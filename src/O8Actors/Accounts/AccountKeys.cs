namespace O8Actors.Accounts;

/// <summary>Which account a login signed in.</summary>
internal static class AccountKeys
{
    /// <summary>
    /// The validated ID token's subject when there is one (the provider vouches for it), else the app's key; null when
    /// neither is known. An unvalidated ID token's <c>sub</c> is never used: anyone can write one.
    /// </summary>
    /// <param name="provider">The login's provider.</param>
    /// <param name="tokens">What the login brought.</param>
    /// <param name="request">The login's request, whose account key names tokens without a validated ID token.</param>
    /// <param name="subjectRequired">
    /// The login signs in again an account known by its ID token's subject: without an ID token the signed-in user is
    /// unknown (null), whatever key the request carries, or anyone who signs in would pass for the account.
    /// </param>
    public static OAuthAccount? For(string provider, TokenSet tokens, AuthorizationRequest? request, bool subjectRequired = false)
    {
        if (tokens.IdTokenClaims is { Subject: { Length: > 0 } subject }) return new OAuthAccount(provider, subject);
        if (subjectRequired) return null;
        return request?.AccountKey is { Length: > 0 } key ? new OAuthAccount(provider, key) : null;
    }
}
