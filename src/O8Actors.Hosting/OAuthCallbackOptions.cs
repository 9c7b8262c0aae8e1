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
    /// The binding is then only as strong as the session cookie: name it <c>__Host-</c> and keep it Secure, HttpOnly and
    /// SameSite=Lax (<c>AddSession(o => { o.Cookie.Name = "__Host-session"; o.Cookie.SecurePolicy = CookieSecurePolicy.Always; o.Cookie.HttpOnly = true; o.Cookie.SameSite = SameSiteMode.Lax; })</c>).
    /// ASP.NET Core's default, <c>.AspNetCore.Session</c>, is an ordinary cookie that a sibling subdomain or a plain-http
    /// page can set: an attacker plants a session of his own, holding his own login's binding (session fixation).
    /// Called once per callback request, synchronously. With ASP.NET Core session over a distributed cache, load the
    /// session first (<c>await context.Session.LoadAsync()</c> in a middleware before the endpoint) so this does not block.
    /// An exception thrown here answers the browser with the "sign-in ended" page and leaves the login waiting.
    /// </remarks>
    public Func<HttpContext, IReadOnlyDictionary<string, string>?>? BrowserSecrets { get; set; }

    /// <summary>
    /// Where a user who came back from the provider's end-session endpoint (<see cref="IOAuthConnector.BeginSignOutAsync"/>)
    /// is sent: a path of this app, such as <c>/</c> (303 See Other). <c>null</c> (the default) shows O8Actors' "you are
    /// signed out" page. Only a local path is taken (it starts with one <c>/</c>), so the callback never redirects off the app,
    /// written in printable ASCII (percent-encode anything else). A path that starts with <c>~/</c> is relative to the
    /// app, as in ASP.NET Core's <c>LocalRedirect</c>: the request's path base goes in front (<c>~/</c> under
    /// <c>UsePathBase("/app")</c> sends the browser to <c>/app/</c>); any other path is sent as it is.
    /// </summary>
    public string? SignedOutRedirect { get; set; }

    /// <summary>
    /// Where a user whose sign-in succeeded is sent instead of O8Actors' "you are signed in, you can close this tab" page:
    /// a path of this app (303 See Other), with the login's id added as <c>o8_login</c> to its query (the
    /// <see cref="PendingLogin.LoginId"/> the app was given). <c>null</c> (the default) shows the page. The same rules as
    /// <see cref="SignedOutRedirect"/>. The login's <see cref="PendingLogin.Outcome"/> may complete a moment after the
    /// browser arrives (its account is stored first): the page should await it, not read it once.
    /// </summary>
    /// <remarks>
    /// <c>o8_login</c> is public and proves nothing on its own: an attacker can send the landing URL of his own sign-in
    /// to someone else. The page must act on the login only when
    /// <see cref="OAuthLanding.ClaimLogin(HttpContext, PendingLogin)"/> (or, for a binding kept in the app's session,
    /// <see cref="OAuthLanding.IsBoundTo"/>) says this browser started it. To let it tell, the callback does not expire the
    /// login's binding cookie when it redirects here: it sets it again to live five minutes, and the claim expires it.
    /// </remarks>
    public string? SignedInRedirect { get; set; }

    /// <summary>
    /// Where a user whose sign-in was denied or failed (the provider's refusal, a failed exchange, a browser other than
    /// the one that started it) is sent instead of O8Actors' page: a path of this app (303 See Other), with the login's id
    /// as <c>o8_login</c>; the reason is the login's <see cref="PendingLogin.Outcome"/>, never in the URL. <c>null</c> (the
    /// default) shows the page. The same rules as <see cref="SignedOutRedirect"/>, and the same claim of the login at the
    /// page as for <see cref="SignedInRedirect"/>.
    /// </summary>
    public string? SignInFailedRedirect { get; set; }
}
