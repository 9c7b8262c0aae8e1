using O8Actors.Configuration;

namespace O8Actors.Browser;

/// <summary>
/// Which URLs a launcher may hand to the operating system's opener. The opener (xdg-open, open, the Windows shell)
/// runs whatever handler a scheme is registered to, so only web URLs pass: https anywhere, plain http only on a
/// loopback host (RFC 8252 §8.3: a provider's own pages are never plain http off the machine).
/// </summary>
internal static class BrowserUrlPolicy
{
    /// <summary>Throws unless <paramref name="url"/> may be opened.</summary>
    /// <exception cref="BrowserLaunchRefusedException">Any other scheme, a relative URL, or plain http off loopback.</exception>
    public static void EnsureSafeToOpen(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri) throw new BrowserLaunchRefusedException("relative");
        if (url.Scheme == Uri.UriSchemeHttps) return;
        if (url.Scheme == Uri.UriSchemeHttp && LoopbackNames.IsLoopbackHost(url.Host)) return;
        throw new BrowserLaunchRefusedException(url.Scheme == Uri.UriSchemeHttp ? "http (not loopback)" : url.Scheme);
    }
}
