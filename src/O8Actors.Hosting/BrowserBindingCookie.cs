using Microsoft.AspNetCore.Http;
using O8Actors.Runtime;

namespace O8Actors.Hosting;

/// <summary>
/// The cookie that binds a server-mode login to the browser that started it: <c>__Host-o8-login-{loginId}</c>, one per
/// login so two logins in one browser do not overwrite each other (the login id is public; the value is the secret).
/// </summary>
/// <remarks>
/// <c>__Host-</c> makes the browser insist on Secure, Path=/ and no Domain, so a sibling subdomain cannot plant or
/// overwrite it. SameSite=Lax still accompanies the provider's redirect back, a top-level GET navigation.
/// The cookie is looked up by its exact name (ordinal) among the pairs of the request's Cookie header(s), split as a
/// browser joined them (<see cref="CookiePairs"/>: on <c>;</c> only), never through <c>HttpRequest.Cookies</c>, which
/// matches names case-insensitively: a browser that checks the prefix case-sensitively (WebKit) lets a sibling subdomain
/// or a plain-http page set <c>__host-o8-login-{id}</c>, an ordinary cookie that must neither pass for the binding nor
/// hide the genuine one; and an ordinary cookie's value (<c>o8x=1,__Host-o8-login-{id}=S</c>) is not split into pairs.
/// A name sent more than once counts as none (a genuine <c>__Host-</c> cookie is unique for the host and Path=/).
/// What the header cannot show is left to the browser: a nameless cookie is sent as its value alone, so one whose
/// value is <c>__Host-o8-login-{id}=S</c> reads as that very pair. RFC 6265bis has the browser refuse such a cookie
/// when it is set; one that takes it anyway lets a sibling subdomain plant a binding the server cannot tell apart.
/// </remarks>
internal static class BrowserBindingCookie
{
    /// <summary>The name's fixed part.</summary>
    public const string NamePrefix = "__Host-o8-login-";

    /// <summary>
    /// The most binding cookies one callback reads. A browser holds one per login it started within the login timeout,
    /// a handful at most; a request stuffed with more must not make the server do more work.
    /// </summary>
    public const int MaxRead = 16;

    /// <summary>The cookie's name for <paramref name="loginId"/>.</summary>
    public static string NameFor(string loginId) => NamePrefix + loginId;

    /// <summary>Sets the cookie for <paramref name="loginId"/> on <paramref name="response"/>, living as long as the login.</summary>
    public static void Append(HttpResponse response, string loginId, string secret, TimeSpan lifetime) =>
        response.Cookies.Append(NameFor(loginId), secret, new CookieOptions
        {
            HttpOnly = true,
            Secure = true,
            SameSite = SameSiteMode.Lax,
            Path = "/",
            MaxAge = lifetime,
            Expires = DateTimeOffset.UtcNow + lifetime,
            // The sign-in cannot work without it: a cookie-consent policy must not drop it.
            IsEssential = true,
        });

    /// <summary>
    /// How long the cookie lives on once the callback sends the browser to the app's landing page
    /// (<see cref="OAuthCallbackOptions.SignedInRedirect"/>): the landing request follows the 303 at once, but the login
    /// may have been answered in its last second, when the cookie set by <c>BeginAsync</c> was about to expire.
    /// </summary>
    public static readonly TimeSpan LandingGrace = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The callback answered <paramref name="loginId"/>'s login with a redirect to the app's landing page: the cookie is
    /// what lets that page tell the browser that started the login from one that was merely sent the landing URL, so it
    /// is set again, if this request carried it, to live <see cref="LandingGrace"/> from now.
    /// </summary>
    public static void KeepForLanding(HttpContext context, string? loginId)
    {
        if (loginId is not null && Presented(context, loginId) is { } secret)
            Append(context.Response, loginId, secret, LandingGrace);
    }

    /// <summary>
    /// Once <paramref name="loginId"/>'s login has answered its callback with a page of its own (or its landing page
    /// claimed it), the cookie has done its job: expire it, if this request carried it (a browser accepts the deletion of
    /// a <c>__Host-</c> cookie only with the same attributes).
    /// </summary>
    public static void DeleteIfPresent(HttpContext context, string? loginId)
    {
        if (loginId is null || Presented(context, loginId) is null) return;
        context.Response.Cookies.Delete(NameFor(loginId), new CookieOptions
        {
            HttpOnly = true,
            Secure = true,
            SameSite = SameSiteMode.Lax,
            Path = "/",
            IsEssential = true,
        });
    }

    /// <summary>
    /// Whether <paramref name="presented"/> is <paramref name="expected"/>, compared in constant time (the time taken
    /// tells nothing of how much of a guess was right). An empty <paramref name="expected"/> (a login without a binding)
    /// matches nothing.
    /// </summary>
    public static bool Matches(string expected, string? presented)
    {
        if (string.IsNullOrEmpty(expected) || string.IsNullOrEmpty(presented) || presented.Length > O8Actors.Binding.BrowserBindingVerifier.MaxPresentedLength)
            return false;
        return ConstantTime.AreEqual(expected, presented);
    }

    /// <summary>
    /// The binding secrets <paramref name="context"/>'s request presents (login id → secret): the newest
    /// <see cref="MaxRead"/>, the last ones in the header; a login id whose cookie is sent more than once is left out.
    /// </summary>
    /// <remarks>
    /// The newest, not the first: a browser sends cookies of the same path oldest first (RFC 6265 section 5.4, and
    /// Chromium and Firefox do), so with more logins pending in one browser than <see cref="MaxRead"/> the first ones are
    /// the stale ones, and the callback arriving now is for one of the newest; reading the first ones dropped exactly that
    /// one, and the login failed as BrowserMismatch. Every cookie is still looked at (once per request, linear in the
    /// header, which the server's header size limit bounds), but only <see cref="MaxRead"/> travel on with the callback.
    /// </remarks>
    public static IReadOnlyDictionary<string, string> Read(HttpContext context)
    {
        var sent = Sent(context);
        var kept = new List<KeyValuePair<string, string>>(Math.Min(sent.Cookies.Count, MaxRead));
        for (var i = sent.Cookies.Count - 1; i >= 0 && kept.Count < MaxRead; i--)
            if (!sent.Repeated.Contains(sent.Cookies[i].Key)) kept.Add(sent.Cookies[i]);

        var found = new Dictionary<string, string>(kept.Count, StringComparer.Ordinal);
        foreach (var (name, value) in kept)
            found.Add(name[NamePrefix.Length..], value);
        return found;
    }

    /// <summary>
    /// The value of the cookie named exactly (ordinal) <see cref="NameFor"/>(<paramref name="loginId"/>) that
    /// <paramref name="context"/>'s request presents; null when it presents none, or more than one.
    /// </summary>
    /// <remarks>
    /// The value is taken as sent, not percent-decoded as <c>HttpRequest.Cookies</c> does: the secrets
    /// <see cref="Append"/> sets are base64url, which needs no encoding, so a decoded spelling of one is not one.
    /// </remarks>
    public static string? Presented(HttpContext context, string loginId)
    {
        var name = NameFor(loginId);
        var sent = Sent(context);
        if (sent.Repeated.Contains(name)) return null;
        foreach (var (sentName, value) in sent.Cookies)
            if (sentName.Equals(name, StringComparison.Ordinal))
                return value;
        return null;
    }

    /// <summary>
    /// The binding cookies of <paramref name="context"/>'s request, in the order sent, with their names as sent: its
    /// Cookie header(s) split once per request (the callback and the landing page look several times), the result kept
    /// in <see cref="HttpContext.Items"/>.
    /// </summary>
    private static SentCookies Sent(HttpContext context)
    {
        if (context.Items.TryGetValue(SentKey, out var kept) && kept is SentCookies known) return known;
        var sent = new SentCookies();
        // Several Cookie headers (HTTP/2 may send each cookie in its own): a pair never spans two.
        foreach (var header in context.Request.Headers.Cookie)
        {
            var pairs = new CookiePairs(header);
            while (pairs.MoveNext())
            {
                if (pairs.Name.Length <= NamePrefix.Length || !pairs.Name.StartsWith(NamePrefix, StringComparison.Ordinal)) continue;
                var name = pairs.Name.ToString();
                if (!sent.Names.Add(name)) sent.Repeated.Add(name);
                sent.Cookies.Add(new(name, pairs.Value.ToString()));
            }
        }
        context.Items[SentKey] = sent;
        return sent;
    }

    /// <summary>Where <see cref="Sent"/> keeps a request's binding cookies: an object nobody else holds, so no key of the app's collides.</summary>
    private static readonly object SentKey = new();

    /// <summary>One request's binding cookies, and the names sent more than once.</summary>
    private sealed class SentCookies
    {
        public List<KeyValuePair<string, string>> Cookies { get; } = [];

        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Repeated { get; } = new(StringComparer.Ordinal);
    }
}
