using Microsoft.AspNetCore.Http;
using CookieHeaderValue = Microsoft.Net.Http.Headers.CookieHeaderValue;
using O8Actors.Runtime;

namespace O8Actors.Hosting;

/// <summary>
/// The cookie that binds a server-mode login to the browser that started it: <c>__Host-o8-login-{loginId}</c>, one per
/// login so two logins in one browser do not overwrite each other (the login id is public; the value is the secret).
/// </summary>
/// <remarks>
/// <c>__Host-</c> makes the browser insist on Secure, Path=/ and no Domain, so a sibling subdomain cannot plant or
/// overwrite it. SameSite=Lax still accompanies the provider's redirect back, a top-level GET navigation.
/// The cookie is only ever looked up by its exact name, in the request's own Cookie header (<see cref="Presented"/>,
/// <see cref="Read"/>), never through <c>HttpRequest.Cookies</c>, which matches names case-insensitively: a browser
/// that checks the prefix case-sensitively (WebKit) lets a sibling subdomain or a plain-http page set
/// <c>__host-o8-login-{id}</c>, an ordinary cookie that must neither pass for the binding nor hide the genuine one.
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
        if (loginId is not null && Presented(context.Request, loginId) is { } secret)
            Append(context.Response, loginId, secret, LandingGrace);
    }

    /// <summary>
    /// Once <paramref name="loginId"/>'s login has answered its callback with a page of its own (or its landing page
    /// claimed it), the cookie has done its job: expire it, if this request carried it (a browser accepts the deletion of
    /// a <c>__Host-</c> cookie only with the same attributes).
    /// </summary>
    public static void DeleteIfPresent(HttpContext context, string? loginId)
    {
        if (loginId is null || Presented(context.Request, loginId) is null) return;
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
    /// <see cref="MaxRead"/>, the last ones in the header.
    /// </summary>
    /// <remarks>
    /// The newest, not the first: a browser sends cookies of the same path oldest first (RFC 6265 section 5.4, and
    /// Chromium and Firefox do), so with more logins pending in one browser than <see cref="MaxRead"/> the first ones are
    /// the stale ones, and the callback arriving now is for one of the newest; reading the first ones dropped exactly that
    /// one, and the login failed as BrowserMismatch. Every cookie is still looked at (a name compare each, as before, bounded
    /// by the server's header size limit), but only <see cref="MaxRead"/> are kept and travel on with the callback.
    /// </remarks>
    public static IReadOnlyDictionary<string, string> Read(HttpContext context)
    {
        KeyValuePair<string, string>[]? newest = null;
        var seen = 0;
        foreach (var cookie in Sent(context.Request))
        {
            if (!cookie.Name.StartsWith(NamePrefix, StringComparison.Ordinal) || cookie.Name.Length == NamePrefix.Length) continue;
            newest ??= new KeyValuePair<string, string>[MaxRead];
            newest[seen++ % MaxRead] = new(cookie.Name.ToString(), cookie.Value.ToString()); // a ring: the oldest kept one makes room
        }

        var found = new Dictionary<string, string>(Math.Min(seen, MaxRead), StringComparer.Ordinal);
        for (var i = Math.Max(0, seen - MaxRead); i < seen; i++)
        {
            var (name, value) = newest![i % MaxRead];
            found.TryAdd(name[NamePrefix.Length..], value);
        }

        return found;
    }

    /// <summary>
    /// The value of the cookie named exactly (ordinal) <see cref="NameFor"/>(<paramref name="loginId"/>) that
    /// <paramref name="request"/> presents, the first one sent; null when it presents none.
    /// </summary>
    /// <remarks>
    /// The value is taken as sent, not percent-decoded as <c>HttpRequest.Cookies</c> does: the secrets
    /// <see cref="Append"/> sets are base64url, which needs no encoding, so a decoded spelling of one is not one.
    /// </remarks>
    public static string? Presented(HttpRequest request, string loginId)
    {
        var name = NameFor(loginId);
        foreach (var cookie in Sent(request))
            if (cookie.Name.Equals(name, StringComparison.Ordinal))
                return cookie.Value.ToString();
        return null;
    }

    /// <summary>
    /// The cookies of <paramref name="request"/>'s Cookie header(s), in the order sent and with their names as sent (a
    /// malformed pair is skipped, as <c>HttpRequest.Cookies</c> skips it). Bounded by the server's header size limit.
    /// </summary>
    private static IList<CookieHeaderValue> Sent(HttpRequest request) =>
        CookieHeaderValue.TryParseList(request.Headers.Cookie, out var cookies) ? cookies : [];
}
