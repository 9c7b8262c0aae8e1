namespace O8Actors.Accounts;

/// <summary>
/// The token endpoint's errors that mean a refresh will not work again without the user: the account signs in again
/// (or a silent caller is told to), rather than fail every call the same way with the same dead refresh token.
/// </summary>
internal static class RefreshRefusal
{
    /// <summary>What <paramref name="providerError"/> means for the refresh token, or null when it is no refusal of it (it may pass).</summary>
    public static string? Why(string? providerError) => providerError switch
    {
        // RFC 6749 section 5.2.
        "invalid_grant" => "revoked, expired or already used",
        // GitHub's answer for an expired or revoked refresh token of an app with expiring user tokens.
        "bad_refresh_token" => "revoked or expired",
        // OpenID Connect's errors, which Microsoft Entra ID also answers a refresh with (multi-factor or conditional access
        // now required, a consent withdrawn, the session ended): the user must come to the authorize endpoint again.
        "interaction_required" or "login_required" or "consent_required" => "the provider needs the user to sign in again",
        _ => null,
    };
}
