namespace O8Actors;

/// <summary>How <see cref="IOAuthLogins.SignOutAsync(OAuthAccount, SignOutOptions?, System.Threading.CancellationToken)"/> signs an account out.</summary>
/// <param name="EndProviderSession">
/// Also end the user's session at the provider (OpenID Connect RP-Initiated Logout 1.0): after the tokens are revoked
/// and forgotten, the browser opens the provider's <c>end_session_endpoint</c>, and O8Actors waits for the provider to
/// send it back to the listener. Without it the provider's session cookie survives, and the next login signs the same
/// user in without asking: on a shared machine that is the next person's login. The provider must list the redirect URI
/// of the provider (the one its logins use) among the client's post-logout redirect URIs.
/// </param>
/// <param name="Timeout">How long to wait for the browser to come back from the provider; null: <c>o8.login.timeout</c>.</param>
/// <param name="SendIdTokenHint">
/// Also send the account's last ID token as <c>id_token_hint</c>, which names the session to end, so a provider need not
/// ask the user to confirm or to pick an account. Off by default: the end-session URL is a GET, so the ID token (the
/// user's claims, signed) would sit in the browser's history, on the command line of the process that opens the
/// browser (readable by other local users) and in the provider's access logs. Without it the URL carries
/// <c>client_id</c>, which RP-Initiated Logout 1.0 lets a provider accept with a registered post-logout redirect URI;
/// some providers send the browser back only with an <c>id_token_hint</c> (the user signs out at the provider and is
/// left there, and the step ends as timed out): turn this on for those.
/// </param>
public sealed record SignOutOptions(bool EndProviderSession = false, TimeSpan? Timeout = null, bool SendIdTokenHint = false)
{
    /// <summary>Revoke and forget the tokens only (the provider's browser session stays).</summary>
    public static SignOutOptions Local { get; } = new();

    /// <summary>Revoke and forget the tokens, and end the provider's browser session.</summary>
    public static SignOutOptions EndingProviderSession { get; } = new(EndProviderSession: true);
}
