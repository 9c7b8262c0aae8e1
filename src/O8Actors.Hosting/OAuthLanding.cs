using Microsoft.AspNetCore.Http;

namespace O8Actors.Hosting;

/// <summary>
/// Server mode: the app's landing page (<see cref="OAuthCallbackOptions.SignedInRedirect"/>,
/// <see cref="OAuthCallbackOptions.SignInFailedRedirect"/>) takes a login only from the browser that started it.
/// </summary>
/// <remarks>
/// The <c>o8_login</c> the callback adds to the landing URL is the login's public id: it proves nothing on its own. Anyone
/// can start a login of his own, sign in with his own provider account and send the landing URL he was redirected to to
/// someone else; a page that signed in whoever opened it would sign the victim in as the attacker (login CSRF, RFC 9700
/// section 4.7.1, one hop after the callback). Before it acts on the login's <see cref="PendingLogin.Outcome"/>, the page
/// must therefore claim the login with <see cref="ClaimLogin(HttpContext, PendingLogin)"/> (binding cookie) or check
/// <see cref="IsBoundTo"/> (binding kept in the app's own session), and refuse it when they say no.
/// </remarks>
public static class OAuthLanding
{
    /// <summary>The query parameter that carries the login's id to the landing page: <c>o8_login</c>.</summary>
    public const string LoginIdParameter = "o8_login";

    /// <summary>
    /// Whether the browser that sent <paramref name="context"/>'s request is the one that started <paramref name="login"/>
    /// (with <see cref="IOAuthConnector.BeginAsync(HttpContext, string, AuthorizationRequest?, CancellationToken)"/>):
    /// its <c>__Host-o8-login-{loginId}</c> cookie holds <see cref="PendingLogin.BrowserBinding"/>, compared in constant
    /// time. The cookie is found by that exact name, sent once, in the Cookie header split as a browser joins its cookies
    /// (on <c>;</c> only): a case variant is no <c>__Host-</c> cookie to every browser, and a pair inside another cookie's
    /// value is no cookie at all, and anyone on a sibling subdomain could have set either; a name sent twice counts as
    /// none. When it matches, the cookie is expired on the response, and the login remembers the claim, so it is claimed
    /// once: a second landing request (one sent at the same time too) or a second call for this request answers false.
    /// </summary>
    /// <param name="context">The landing request; its response must not have started.</param>
    /// <param name="login">The login the request's <c>o8_login</c> names, as the app kept it.</param>
    /// <returns>True only for the browser that started the login, the first time; act on the login only then.</returns>
    /// <remarks>
    /// The check needs no state of the node that started the login: the cookie is in the browser, the binding in what the
    /// app kept. On a cluster, where the landing may reach another node, keep the login's id and
    /// <see cref="PendingLogin.BrowserBinding"/> (server side, never in a URL or a log) where every node finds them and
    /// call <see cref="ClaimLogin(HttpContext, string, string)"/>.
    /// The callback keeps the cookie for a few minutes (it sets it again, as it redirects, to live five minutes) so that
    /// it is still there when the landing request arrives, even when the login was answered in its last second.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The response has started (the cookie can no longer be expired).</exception>
    public static bool ClaimLogin(this HttpContext context, PendingLogin login)
    {
        ArgumentNullException.ThrowIfNull(login);
        // Two landing requests of one browser at once (a double navigation, a retry) both carry the cookie, and the
        // expired cookie reaches the browser only with a response: the login itself remembers it was claimed.
        return context.ClaimLogin(login.LoginId, login.BrowserBinding) && ClaimedLogins.TryAdd(login, ClaimMark);
    }

    // The logins claimed through ClaimLogin(HttpContext, PendingLogin), by reference, held no longer than the login.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<PendingLogin, object> ClaimedLogins = new();
    private static readonly object ClaimMark = new();

    /// <summary>
    /// As <see cref="ClaimLogin(HttpContext, PendingLogin)"/>, for an app that keeps a login's id and
    /// <see cref="PendingLogin.BrowserBinding"/> itself (in a store every node of a cluster reads, for example).
    /// </summary>
    /// <param name="context">The landing request; its response must not have started.</param>
    /// <param name="loginId">The login's id (<see cref="PendingLogin.LoginId"/>).</param>
    /// <param name="browserBinding">The login's <see cref="PendingLogin.BrowserBinding"/>; an empty one matches no browser.</param>
    /// <returns>True only for the browser that started the login, the first time within this request.</returns>
    /// <remarks>
    /// Once per request, not once per login: with nothing of the login's to hold the claim, two landing requests of one
    /// browser at once (a double navigation, a retry, perhaps on two nodes) both carry the cookie and both answer true.
    /// Take the login out of your store atomically (a delete that reports whether it deleted, a compare-and-set) and act
    /// on it only when that removal was yours.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The response has started (the cookie can no longer be expired).</exception>
    public static bool ClaimLogin(this HttpContext context, string loginId, string browserBinding)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(loginId);
        ArgumentNullException.ThrowIfNull(browserBinding);
        if (context.Response.HasStarted)
            throw new InvalidOperationException("ClaimLogin expires the login's binding cookie, so it must run before the response has started.");
        // The request still carries the cookie after it was claimed: remember the claim for the rest of this request.
        var claimed = ClaimedKey + loginId;
        if (context.Items.ContainsKey(claimed)) return false;
        if (!BrowserBindingCookie.Matches(browserBinding, BrowserBindingCookie.Presented(context, loginId))) return false;
        context.Items[claimed] = true;
        BrowserBindingCookie.DeleteIfPresent(context, loginId);
        return true;
    }

    /// <summary>
    /// For an app that keeps the binding in its own session (<see cref="IOAuthConnector.BeginAsync(string, AuthorizationRequest?, CancellationToken)"/>
    /// and <see cref="OAuthCallbackOptions.BrowserSecrets"/>): whether <paramref name="browserSecret"/>, the secret this
    /// request's session holds for the login's id, is <paramref name="login"/>'s <see cref="PendingLogin.BrowserBinding"/>,
    /// compared in constant time. Remove the secret from the session when this says yes, so the login is claimed once.
    /// </summary>
    /// <param name="login">The login the request's <c>o8_login</c> names, as the app kept it.</param>
    /// <param name="browserSecret">The secret the current session holds for that login id; null when it holds none.</param>
    public static bool IsBoundTo(this PendingLogin login, string? browserSecret)
    {
        ArgumentNullException.ThrowIfNull(login);
        return BrowserBindingCookie.Matches(login.BrowserBinding, browserSecret);
    }

    private const string ClaimedKey = "O8Actors.LandingClaimed:";
}
