namespace O8Actors.Hosting;

/// <summary>
/// Server mode: starts a login without opening a browser and gives the caller its authorize URL, for web back ends
/// that redirect their user there (<c>POST /connect/{provider}</c> → 302). The provider redirects back to
/// <c>app.MapOAuthCallback(...)</c>, which routes the callback by <c>state</c> to the login.
/// </summary>
public interface IOAuthConnector
{
    /// <summary>Starts a login and returns as soon as its authorize URL is ready.</summary>
    /// <param name="provider">A registered provider's name.</param>
    /// <param name="request">Scopes, timeout and extra parameters (for example <c>login_hint</c>).</param>
    /// <param name="cancellationToken">Cancels the login, also after this method has returned.</param>
    /// <exception cref="TooManyPendingLoginsException">Refused at once: <c>o8.login.max-pending</c> or <c>o8.login.max-pending-per-partition</c> is reached.</exception>
    /// <exception cref="AuthorizationFailedException">The login ended before it had a URL (unknown provider, discovery failed).</exception>
    Task<PendingLogin> BeginAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default);
}

/// <summary>A login waiting for its user: send the user to <see cref="AuthorizeUrl"/>, await <see cref="Outcome"/>.</summary>
/// <param name="LoginId">The login's public id (safe to log and to show).</param>
/// <param name="Provider">The provider's name.</param>
/// <param name="AuthorizeUrl">Where to send the user (it carries the login's <c>state</c>; do not log it).</param>
/// <param name="Outcome">Completes once, when the login ends (tokens, denial, timeout, cancellation or failure).</param>
public sealed record PendingLogin(string LoginId, string Provider, Uri AuthorizeUrl, Task<LoginOutcome> Outcome)
{
    /// <inheritdoc />
    public override string ToString() => $"PendingLogin {{ LoginId = {LoginId}, Provider = {Provider} }}";
}
