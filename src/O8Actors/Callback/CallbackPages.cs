using System.Net;
using System.Text;

namespace O8Actors.Callback;

/// <summary>
/// The HTML pages the listener shows. Self-contained on purpose: inline CSS only, no scripts, no images, no fonts, no
/// links, so nothing leaks the callback URL to a third party and the strict CSP holds.
/// </summary>
internal static class CallbackPages
{
    /// <summary>The page of a login that succeeded.</summary>
    public static readonly CallbackResponse SignedIn =
        new(200, CallbackPageKind.Success, "You are signed in. You can close this tab and return to the application.");

    /// <summary>The page of a sign-out whose provider ended its session.</summary>
    public static readonly CallbackResponse SignedOut =
        new(200, CallbackPageKind.SignedOut, "You are signed out of the provider too. You can close this tab and return to the application.");

    /// <summary>A sign-out's return on another provider's redirect path.</summary>
    public static readonly CallbackResponse NotThisSignOut =
        new(400, CallbackPageKind.SignOutRefused, "This sign-out came back at an address that is not its provider's. Sign out again from the application.");

    /// <summary>A return with a sign-out's state before its end-session URL was handed out (no genuine return can carry it).</summary>
    public static readonly CallbackResponse SignOutNotYetSent =
        new(400, CallbackPageKind.SignOutRefused, "This sign-out had not sent the browser to the provider yet, so this is not its return. Sign out again from the application.");

    /// <summary>The page for a stray request to another path.</summary>
    public static readonly CallbackResponse NotFound =
        new(404, CallbackPageKind.NotFound, "There is nothing here. This address only receives sign-in redirects.");

    /// <summary>The page for a method other than GET.</summary>
    public static readonly CallbackResponse MethodNotAllowed =
        new(405, CallbackPageKind.MethodNotAllowed, "This address only accepts GET requests from your browser.");

    /// <summary>The page for a state no live login owns.</summary>
    public static readonly CallbackResponse UnknownState =
        new(400, CallbackPageKind.BadRequest, "This sign-in link is unknown or already used. Start the sign-in again from the application.");

    /// <summary>The page for a Host header that is not a loopback name.</summary>
    public static readonly CallbackResponse HostNotLoopback =
        new(400, CallbackPageKind.BadRequest, "This address only answers requests for localhost.");

    /// <summary>The page for a request without the OAuth parameters of a redirect.</summary>
    public static readonly CallbackResponse Malformed =
        new(400, CallbackPageKind.BadRequest, "This is not a valid sign-in redirect.");

    /// <summary>
    /// Server mode: the redirect came back in another browser than the one that started the login (no or a wrong
    /// browser-binding cookie). Says what to do without blaming the user: a link that was forwarded lands here too.
    /// </summary>
    public static readonly CallbackResponse OtherBrowser =
        new(400, CallbackPageKind.Failed,
            "This sign-in was started in another browser, so it was stopped here and nothing was connected. Start the sign-in again from the application, in this browser.");

    /// <summary>
    /// A login's redirect that arrived at another path than its provider's redirect URI (RedirectMismatch, the mix-up
    /// defence). Fixed text: the path is the request's, anyone's to choose (<c>/oauth/callback/Your%20account%20is%20locked…</c>
    /// with a live state), so quoting it would put the sender's words on the app's own page, in any browser (the path is
    /// checked before the browser binding). The path stays in the login's failure reason, for the app and its log.
    /// </summary>
    public static readonly CallbackResponse NotTheCallbackAddress =
        new(400, CallbackPageKind.Failed,
            "This is not the provider's callback address for this sign-in, so it was stopped here and nothing was connected. Start the sign-in again from the application.");

    /// <summary>
    /// A login's redirect whose <c>iss</c> is not its provider's, or is missing where the provider always sends one
    /// (IssuerMismatch, RFC 9207's mix-up defence). Fixed text: <c>iss</c> is whatever the sender of the redirect wrote, in
    /// a mix-up the other authorization server, so quoting it would put that server's words on the app's own page. The
    /// issuer stays in the login's failure reason, for the app and its log.
    /// </summary>
    public static readonly CallbackResponse NotThisProvider =
        new(400, CallbackPageKind.Failed,
            "This sign-in came back from another server than the one it was sent to, so it was stopped here and nothing was connected. Start the sign-in again from the application.");

    /// <summary>The page when the login did not answer in time.</summary>
    public static readonly CallbackResponse TimedOut =
        new(504, CallbackPageKind.Failed, "The sign-in did not finish in time. Return to the application and try again.");

    /// <summary>The page when the login ended before it answered.</summary>
    public static readonly CallbackResponse LoginGone =
        new(500, CallbackPageKind.Failed, "The sign-in ended before it could finish. Return to the application and try again.");

    /// <summary>The page while the listener shuts down.</summary>
    public static readonly CallbackResponse ShuttingDown =
        new(503, CallbackPageKind.Failed, "The application is shutting down. Return to it and try again.");

    /// <summary>A callback for a login that gave up the browser for the device grant (Auto, after the launcher failed).</summary>
    public static readonly CallbackResponse NoLongerWaiting =
        new(400, CallbackPageKind.BadRequest, "This login no longer waits for a redirect: it goes on with the device code the application showed.");

    /// <summary>A second callback for a login that is already exchanging its code.</summary>
    public static readonly CallbackResponse AlreadyUsed =
        new(400, CallbackPageKind.BadRequest, "This login link was already used.");

    /// <summary>A callback that reached a login after it ended.</summary>
    public static readonly CallbackResponse AlreadyEnded =
        new(410, CallbackPageKind.Failed, "This login has already ended. Start a new login from the application.");

    /// <summary>A sign-out's return that reached its step after the step ended (its deadline passed, or it failed).</summary>
    public static readonly CallbackResponse SignOutAlreadyEnded =
        new(410, CallbackPageKind.SignOutRefused,
            "This sign-out had already ended in the application when the browser came back. Sign out again from the application to be sure the provider's session ended.");

    /// <summary>Renders <paramref name="response"/> as a complete HTML document.</summary>
    public static string Render(CallbackResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var (title, heading, accent) = Look(response.Kind);
        var detail = WebUtility.HtmlEncode(response.Detail ?? "");
        var builder = new StringBuilder(1024);
        builder.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"referrer\" content=\"no-referrer\">")
            .Append("<title>").Append(title).Append("</title><style>")
            .Append("body{font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;background:#f5f6f8;color:#1f2328;margin:0;")
            .Append("display:flex;min-height:100vh;align-items:center;justify-content:center}")
            .Append("main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.5rem;max-width:32rem;")
            .Append("border-top:6px solid ").Append(accent).Append('}')
            .Append("h1{font-size:1.35rem;margin:0 0 .75rem}p{line-height:1.5;margin:.5rem 0;overflow-wrap:anywhere}")
            .Append(".status{color:#656d76;font-size:.85rem}")
            .Append("</style></head><body><main><h1>").Append(heading).Append("</h1>");
        if (detail.Length > 0) builder.Append("<p>").Append(detail).Append("</p>");
        builder.Append("<p class=\"status\">HTTP ").Append(response.StatusCode).Append("</p></main></body></html>\n");
        return builder.ToString();
    }

    /// <summary>UTF-8 bytes of <see cref="Render"/>.</summary>
    public static byte[] RenderUtf8(CallbackResponse response) => Encoding.UTF8.GetBytes(Render(response));

    private static (string Title, string Heading, string Accent) Look(CallbackPageKind kind) => kind switch
    {
        CallbackPageKind.Success => ("Signed in", "You are signed in. You can close this tab.", "#1a7f37"),
        CallbackPageKind.SignedOut => ("Signed out", "You are signed out. You can close this tab.", "#1a7f37"),
        CallbackPageKind.SignOutRefused => ("Sign-out not completed", "This request cannot complete the sign-out.", "#cf222e"),
        CallbackPageKind.Denied => ("Sign-in denied", "The sign-in was denied.", "#bf8700"),
        CallbackPageKind.Failed => ("Sign-in failed", "The sign-in failed.", "#cf222e"),
        CallbackPageKind.BadRequest => ("Bad request", "This request cannot be used to sign in.", "#cf222e"),
        CallbackPageKind.NotFound => ("Not found", "Not found.", "#656d76"),
        CallbackPageKind.MethodNotAllowed => ("Method not allowed", "Method not allowed.", "#656d76"),
        _ => ("Sign-in", "Sign-in", "#656d76"),
    };
}
