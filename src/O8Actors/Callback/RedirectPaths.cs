using Microsoft.AspNetCore.Http;

namespace O8Actors.Callback;

/// <summary>
/// Each provider's own redirect path under the callback path (RFC 9700 section 4.4.2: a redirect URI per authorization
/// server is one of the two mix-up defences). A response that arrives on another provider's path is refused by the
/// login before anything is exchanged.
/// </summary>
internal static class RedirectPaths
{
    /// <summary>The default: the callback path followed by the provider's name (<c>/</c> → <c>/github</c>, <c>/oauth/callback</c> → <c>/oauth/callback/github</c>).</summary>
    public static string DefaultFor(string callbackPath, string provider) =>
        Under(callbackPath) + Uri.EscapeDataString(provider);

    /// <summary>The provider's redirect path: its own <paramref name="configured"/> one, or the default.</summary>
    public static string For(string callbackPath, string provider, string? configured) =>
        string.IsNullOrEmpty(configured) ? DefaultFor(callbackPath, provider) : configured;

    /// <summary>Whether <paramref name="path"/> is the callback path or lies under it (the only paths the listener serves).</summary>
    public static bool IsWithin(string callbackPath, string? path)
    {
        if (path is null) return false;
        if (string.Equals(path, callbackPath, StringComparison.Ordinal)) return true;
        var under = Under(callbackPath);
        // At least one character after the separator: "/oauth/callback/" is not a provider's path.
        return path.Length > under.Length && path.StartsWith(under, StringComparison.Ordinal);
    }

    /// <summary>Why <paramref name="path"/> cannot be a provider's redirect path, or null when it can.</summary>
    public static string? Problem(string callbackPath, string provider, string? path)
    {
        if (ArrivesAltered(For(callbackPath, provider, path)))
            return $"The redirect path of provider '{Uri.EscapeDataString(provider)}' (its name, or its RedirectPath) holds a control character " +
                $"or is longer than {ExternalText.MaxTextLength} characters, so no callback could be matched to it; use a shorter name or path without control characters.";
        if (string.IsNullOrEmpty(path)) return null;
        if (!path.StartsWith('/') || path.Contains('?') || path.Contains('#') || path.Contains("//", StringComparison.Ordinal) ||
            path.Split('/').Any(segment => segment is "." or ".."))
            return $"The redirect path '{path}' of provider '{provider}' must be an absolute path without query, fragment or dot segments.";
        if (!IsWithin(callbackPath, path))
            return $"The redirect path '{path}' of provider '{provider}' is outside the callback path '{callbackPath}', where no callback arrives; " +
                $"use '{callbackPath}' or a path under it, such as '{DefaultFor(callbackPath, provider)}'.";
        return null;
    }

    /// <summary>
    /// Why <paramref name="path"/> cannot be the listener's callback path (<c>o8.listener.path</c>), or null when it can:
    /// it goes into every redirect URI as written and is compared with each request's path as Kestrel decodes it, so a
    /// percent-escape (<c>/my%20app</c> arrives as <c>/my app</c>), a dot segment (the URI drops it) or an empty segment made
    /// every callback a 404 and every login time out.
    /// </summary>
    public static string? ListenerPathProblem(string? path)
    {
        if (path is null || !path.StartsWith('/')) return $"must start with '/', not '{path}'";
        if (path.Contains('?') || path.Contains('#') || path.Contains('%') || path.Contains("//", StringComparison.Ordinal) ||
            path.Split('/').Any(segment => segment is "." or "..") ||
            !string.Equals(RequestPathOf(WithPath(AnyListener, path)), path, StringComparison.Ordinal))
            return $"must be a plain absolute path (no query, fragment, percent-escape, empty or dot segment), as a callback's request arrives with it, not '{path}'";
        return ArrivesAltered(path) ? $"must hold no control character and be at most {ExternalText.MaxTextLength} characters, not '{ExternalText.Clean(path, 80)}'" : null;
    }

    /// <summary>
    /// Whether a callback to <paramref name="path"/> would reach its login altered: the listener passes a request's path on
    /// cleaned of control characters and cut to <see cref="ExternalText.MaxTextLength"/> (it is outside input, shown on
    /// pages and in messages), and the login compares it exactly with its provider's path; such a path would fail every
    /// callback as a mix-up.
    /// </summary>
    private static bool ArrivesAltered(string path)
    {
        var arrives = RequestPathOf(WithPath(AnyListener, path));
        return !string.Equals(ExternalText.Clean(arrives, ExternalText.MaxTextLength), arrives, StringComparison.Ordinal);
    }

    private static readonly Uri AnyListener = new("http://127.0.0.1/");

    /// <summary>The listener's redirect URI with the provider's path (scheme, host and port stay the listener's).</summary>
    public static Uri WithPath(Uri listenerRedirectUri, string path) =>
        new UriBuilder(listenerRedirectUri) { Path = path, Query = "", Fragment = "" }.Uri;

    /// <summary>
    /// The path a request to <paramref name="redirectUri"/> arrives with, as the listener sees it (Kestrel's
    /// <c>HttpRequest.Path</c>): percent-decoded, UTF-8 included, except <c>%2F</c>, which stays encoded so that it is
    /// not taken for a separator. The URI's <see cref="Uri.AbsolutePath"/> is the escaped form (<c>/Azure%20AD</c>,
    /// where the request arrives as <c>/Azure AD</c>), so comparing a request's path with it refused every callback of
    /// a provider whose name or path needs escaping.
    /// </summary>
    public static string RequestPathOf(Uri redirectUri) => PathString.FromUriComponent(redirectUri).Value ?? "/";

    private static string Under(string callbackPath) => callbackPath.EndsWith('/') ? callbackPath : callbackPath + "/";
}
