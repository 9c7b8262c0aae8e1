namespace O8Actors.Examples.WebConnect;

/// <summary>
/// The app's public callback URI: <c>O8:Listener:ExternalRedirectUri</c> when set, else <c>/oauth/callback</c> on the
/// first of <c>Urls</c> (<c>--urls</c>), so moving the public address moves the callback with it.
/// </summary>
internal static class PublicAddress
{
    private const string RedirectUriKey = "O8:Listener:ExternalRedirectUri";

    /// <summary>The callback URI the provider must send users back to, as this configuration implies it.</summary>
    /// <exception cref="InvalidOperationException">Neither setting names an absolute https address.</exception>
    public static string RedirectUri(IConfiguration configuration)
    {
        if (configuration[RedirectUriKey] is { Length: > 0 } configured) return configured;
        var first = (configuration["Urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault();
        if (!Uri.TryCreate(first, UriKind.Absolute, out var root) || root.Scheme != Uri.UriSchemeHttps)
            throw new InvalidOperationException(
                $"Set Urls (--urls) to the app's public https address, or {RedirectUriKey} to its callback URI; Urls is '{first}'.");
        return new Uri(root, "/oauth/callback").ToString();
    }

    /// <summary>The setting that pins the callback URI, for every host (node) of the app to add to its configuration.</summary>
    public static KeyValuePair<string, string?> RedirectUriSetting(IConfiguration configuration) => new(RedirectUriKey, RedirectUri(configuration));
}
