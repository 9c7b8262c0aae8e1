namespace O8Actors.Browser;

/// <summary>
/// A browser launcher was asked to open a URL it must not hand to the operating system: anything but <c>https</c>, or
/// <c>http</c> on a loopback host. A <c>file:</c>, <c>javascript:</c> or custom-scheme URL would start another program
/// with the login's parameters. The message names the scheme only, never the URL (it carries the login's state).
/// </summary>
public sealed class BrowserLaunchRefusedException(string scheme)
    : OAuthFlowException($"Refused to open a '{scheme}' URL in the browser: only https URLs, and http URLs on a loopback host, are opened.")
{
    /// <summary>The refused URL's scheme.</summary>
    public string Scheme { get; } = scheme;
}
