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
public sealed record SignOutOptions(bool EndProviderSession = false, TimeSpan? Timeout = null)
{
    /// <summary>Revoke and forget the tokens only (the provider's browser session stays).</summary>
    public static SignOutOptions Local { get; } = new();

    /// <summary>Revoke and forget the tokens, and end the provider's browser session.</summary>
    public static SignOutOptions EndingProviderSession { get; } = new(EndProviderSession: true);
}
