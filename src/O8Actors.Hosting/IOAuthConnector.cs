using Microsoft.AspNetCore.Http;

namespace O8Actors.Hosting;

/// <summary>
/// Server mode: starts a login without opening a browser and gives the caller its authorize URL, for web back ends
/// that redirect their user there (<c>POST /connect/{provider}</c> → 302). The provider redirects back to
/// <c>app.MapOAuthCallback(...)</c>, which routes the callback by <c>state</c> to the login.
/// </summary>
/// <remarks>
/// Every login started here belongs to the browser that started it (RFC 9700 section 4.7.1): only a callback that
/// presents that browser's secret may complete it, so an authorize URL sent to someone else links nothing. Use the
/// <see cref="BeginAsync(HttpContext, string, AuthorizationRequest?, CancellationToken)"/> overload, which keeps the
/// secret in a cookie, unless the app keeps it in its own session.
/// </remarks>
public interface IOAuthConnector
{
    /// <summary>
    /// Starts a login for the browser that sent <paramref name="context"/>'s request and returns as soon as its
    /// authorize URL is ready. Sets the login's browser-binding cookie on <paramref name="context"/>'s response
    /// (<c>__Host-o8-login-{loginId}</c>: HttpOnly, Secure, SameSite=Lax, Path=/, living as long as the login), which
    /// <c>MapOAuthCallback</c> checks before the code is used. The app must therefore be served over HTTPS. The response
    /// is also marked <c>Cache-Control: no-cache,no-store</c> (and <c>Pragma: no-cache</c>): it carries that cookie and,
    /// in the app's redirect, the login's state.
    /// </summary>
    /// <param name="context">The current request; its response must not have started.</param>
    /// <param name="provider">A registered provider's name.</param>
    /// <param name="request">Scopes, timeout and extra parameters (for example <c>login_hint</c>).</param>
    /// <param name="cancellationToken">Cancels the login, also after this method has returned.</param>
    /// <exception cref="TooManyPendingLoginsException">Refused at once: <c>o8.login.max-pending</c> or <c>o8.login.max-pending-per-partition</c> is reached.</exception>
    /// <exception cref="UnknownProviderException">No provider of that name is registered.</exception>
    /// <exception cref="AuthorizationFailedException">The login ended before it had a URL (discovery failed, provider unavailable);
    /// <see cref="ProviderBusyException"/> when its queue was full. All derive from <see cref="OAuthFlowException"/>.</exception>
    /// <exception cref="AuthorizationTimeoutException">The login's deadline passed before it had a URL (no browser was opened).</exception>
    /// <exception cref="ArgumentException">The request asks for a device login (<see cref="AuthorizationRequest.Method"/>), which has no authorize URL.</exception>
    /// <exception cref="InvalidOperationException">Not in server mode (no <c>O8:Listener:ExternalRedirectUri</c>): the loopback listener cannot check the browser binding.</exception>
    Task<PendingLogin> BeginAsync(HttpContext context, string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a login and returns as soon as its authorize URL is ready, for apps that keep the browser binding
    /// themselves: store <see cref="PendingLogin.BrowserBinding"/> in the user's session (server side) and hand it back
    /// at the callback through <c>MapOAuthCallback(pattern, o => o.BrowserSecrets = ...)</c>. Without that, the callback
    /// finds no binding and the login ends as <see cref="LoginFailure.BrowserMismatch"/>. The session cookie must be a
    /// <c>__Host-</c> cookie (Secure, HttpOnly, SameSite=Lax): see <see cref="OAuthCallbackOptions.BrowserSecrets"/>.
    /// </summary>
    /// <param name="provider">A registered provider's name.</param>
    /// <param name="request">Scopes, timeout and extra parameters (for example <c>login_hint</c>).</param>
    /// <param name="cancellationToken">Cancels the login, also after this method has returned.</param>
    /// <exception cref="TooManyPendingLoginsException">Refused at once: <c>o8.login.max-pending</c> or <c>o8.login.max-pending-per-partition</c> is reached.</exception>
    /// <exception cref="UnknownProviderException">No provider of that name is registered.</exception>
    /// <exception cref="AuthorizationFailedException">The login ended before it had a URL (discovery failed, provider unavailable);
    /// <see cref="ProviderBusyException"/> when its queue was full. All derive from <see cref="OAuthFlowException"/>.</exception>
    /// <exception cref="AuthorizationTimeoutException">The login's deadline passed before it had a URL (no browser was opened).</exception>
    /// <exception cref="ArgumentException">The request asks for a device login (<see cref="AuthorizationRequest.Method"/>), which has no authorize URL.</exception>
    /// <exception cref="InvalidOperationException">Not in server mode (no <c>O8:Listener:ExternalRedirectUri</c>): the loopback listener cannot check the browser binding.</exception>
    Task<PendingLogin> BeginAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Signs <paramref name="account"/> out of the app and of the provider's browser session (OpenID Connect
    /// RP-Initiated Logout), the web app's way: revokes and forgets its tokens, then returns the provider's end-session URL
    /// for the app to redirect its user to (<c>POST /signout</c> → 302). The provider sends the user back to the
    /// provider's redirect URI, where <c>MapOAuthCallback</c> completes <see cref="PendingSignOut.Outcome"/> and shows the
    /// "signed out" page, or redirects to <see cref="OAuthCallbackOptions.SignedOutRedirect"/>.
    /// </summary>
    /// <param name="account">The account to sign out.</param>
    /// <param name="options">The wait for the user's return (<see cref="SignOutOptions.Timeout"/>) and <see cref="SignOutOptions.SendIdTokenHint"/>; the provider's session is always ended.</param>
    /// <param name="cancellationToken">Stops waiting for the URL (the sign-out itself goes on).</param>
    /// <returns>
    /// The sign-out, with <see cref="PendingSignOut.EndSessionUrl"/> null when no end-session URL could be given: the
    /// provider has no end-session endpoint (<see cref="ProviderSessionOutcome.NotSupported"/>), or the step could not
    /// start (<see cref="ProviderSessionOutcome.Failed"/>, with the reason: the provider unavailable, too many sign-outs
    /// waiting). Then <see cref="PendingSignOut.Outcome"/> is already complete; read it before telling the user the
    /// provider's session ended.
    /// </returns>
    /// <remarks>
    /// On a cluster of server-mode nodes (O8Actors.Cluster) the tokens are revoked and forgotten by the account's entity,
    /// wherever it runs, and the provider-session step runs on this node; a return that lands on another node is handed
    /// here by that node's gateway, which asks the other members for the sign-out's state.
    /// </remarks>
    /// <exception cref="NotSupportedException">On a cluster, with <see cref="SignOutOptions.SendIdTokenHint"/> (the ID token stays with the account's entity).</exception>
    Task<PendingSignOut> BeginSignOutAsync(OAuthAccount account, SignOutOptions? options = null, CancellationToken cancellationToken = default);
}

/// <summary>A sign-out waiting for its user: redirect the user to <see cref="EndSessionUrl"/>, await <see cref="Outcome"/>.</summary>
/// <param name="Account">The account signed out (its tokens are already revoked and forgotten).</param>
/// <param name="EndSessionUrl">Where to send the user to end the provider's session; null when there is none (see <see cref="Outcome"/>: the provider has none, or the step failed).</param>
/// <param name="Outcome">Completes once the user's browser came back from the provider, or the wait ended.</param>
public sealed record PendingSignOut(OAuthAccount Account, Uri? EndSessionUrl, Task<SignOutResult> Outcome)
{
    /// <inheritdoc />
    public override string ToString() => $"PendingSignOut {{ Account = {Account}, HasEndSessionUrl = {EndSessionUrl is not null} }}";
}

/// <summary>A login waiting for its user: send the user to <see cref="AuthorizeUrl"/>, await <see cref="Outcome"/>.</summary>
/// <param name="LoginId">The login's public id (safe to log and to show, so it proves nothing about who holds it: a landing
/// page that gets it as <c>o8_login</c> claims the login with <see cref="OAuthLanding.ClaimLogin(HttpContext, PendingLogin)"/>).</param>
/// <param name="Provider">The provider's name.</param>
/// <param name="AuthorizeUrl">Where to send the user (it carries the login's <c>state</c>; do not log it).</param>
/// <param name="Outcome">Completes once, when the login ends (tokens, denial, timeout, cancellation or failure).</param>
public sealed record PendingLogin(string LoginId, string Provider, Uri AuthorizeUrl, Task<LoginOutcome> Outcome)
{
    /// <summary>
    /// The secret that binds this login to its browser (base64url, 32 random bytes): only a callback presenting it may
    /// complete the login. <c>BeginAsync(HttpContext, ...)</c> has already put it in a cookie; an app using the overload
    /// without a context keeps it in its server-side session for this <see cref="LoginId"/>. The app's landing page
    /// checks it again (<see cref="OAuthLanding.ClaimLogin(HttpContext, PendingLogin)"/>), so keep it with the login until
    /// then. Never log it, never put it in a URL; it is left out of <see cref="ToString"/>.
    /// </summary>
    public string BrowserBinding { get; init; } = "";

    /// <inheritdoc />
    public override string ToString() => $"PendingLogin {{ LoginId = {LoginId}, Provider = {Provider} }}";
}
