namespace O8Actors.Browser;

/// <summary>
/// A URL as the launcher prints it when no browser opens (to standard error by default, where terminals, their
/// scrollback and captured service output keep it): without <c>id_token_hint</c>, the ID token that a sign-out's
/// end-session URL carries (OpenID Connect RP-Initiated Logout 1.0, section 2). The URL still works without it: its
/// <c>client_id</c> tells the provider whose <c>post_logout_redirect_uri</c> it is, and the provider asks the user to
/// confirm the sign-out instead of taking the hint. Every other parameter (the state among them) stays as it was.
/// </summary>
internal static class PrintedUrl
{
    private const string IdTokenHint = "id_token_hint";

    /// <summary><paramref name="url"/> (an absolute URI's text) without its <c>id_token_hint</c> parameters.</summary>
    public static string Of(string url)
    {
        var queryStart = url.IndexOf('?', StringComparison.Ordinal);
        if (queryStart < 0 || !url.Contains(IdTokenHint, StringComparison.OrdinalIgnoreCase)) return url;
        var fragmentStart = url.IndexOf('#', queryStart);
        var queryEnd = fragmentStart < 0 ? url.Length : fragmentStart;
        var kept = url[(queryStart + 1)..queryEnd].Split('&').Where(parameter => !IsIdTokenHint(parameter));
        var query = string.Join('&', kept);
        return url[..queryStart] + (query.Length > 0 ? "?" + query : "") + url[queryEnd..];
    }

    // The name as the provider reads it: decoded, so an escaped spelling of it is left out too.
    private static bool IsIdTokenHint(string parameter)
    {
        var equals = parameter.IndexOf('=', StringComparison.Ordinal);
        var name = equals < 0 ? parameter : parameter[..equals];
        return string.Equals(Uri.UnescapeDataString(name.Replace('+', ' ')), IdTokenHint, StringComparison.Ordinal);
    }
}
