using Microsoft.AspNetCore.Http;

namespace O8Actors.Hosting;

/// <summary>How <c>MapOAuthCallback</c> serves the provider's redirect back.</summary>
public sealed class OAuthCallbackOptions
{
    /// <summary>
    /// For apps that keep each login's browser binding in their own session (<see cref="PendingLogin.BrowserBinding"/>,
    /// from <see cref="IOAuthConnector.BeginAsync(string, AuthorizationRequest?, CancellationToken)"/>): returns the
    /// secrets the current request's session holds, login id → secret. Every login is checked against the secret
    /// presented for its own id, in constant time, before its code is used.
    /// <c>null</c> (the default) reads the <c>__Host-o8-login-{loginId}</c> cookies that
    /// <see cref="IOAuthConnector.BeginAsync(HttpContext, string, AuthorizationRequest?, CancellationToken)"/> sets.
    /// </summary>
    /// <remarks>
    /// Called once per callback request, synchronously. With ASP.NET Core session over a distributed cache, load the
    /// session first (<c>await context.Session.LoadAsync()</c> in a middleware before the endpoint) so this does not block.
    /// An exception thrown here answers the browser with the "sign-in ended" page and leaves the login waiting.
    /// </remarks>
    public Func<HttpContext, IReadOnlyDictionary<string, string>?>? BrowserSecrets { get; set; }

    /// <summary>
    /// Where a user who came back from the provider's end-session endpoint (<see cref="IOAuthConnector.BeginSignOutAsync"/>)
    /// is sent: a path of this app, such as <c>/</c> (303 See Other). <c>null</c> (the default) shows O8Actors' "you are
    /// signed out" page. Only a local path is taken (it starts with one <c>/</c>), so the callback never redirects off the app,
    /// written in printable ASCII (percent-encode anything else). It is sent as it is: an app under a path base
    /// (<c>UsePathBase("/app")</c>) names the base too (<c>/app/</c>).
    /// </summary>
    public string? SignedOutRedirect { get; set; }
}
