using System.Net;

namespace O8Actors.Configuration;

/// <summary>Which host names count as loopback (RFC 8252 section 8.3; the Host-header check uses this too).</summary>
internal static class LoopbackNames
{
    /// <summary>Whether <paramref name="host"/> (a host name or literal, without port) names this machine's loopback.</summary>
    public static bool IsLoopbackHost(string? host)
    {
        if (string.IsNullOrEmpty(host)) return false;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        var literal = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(literal, out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>
    /// Whether the listener can serve <paramref name="host"/> in redirect URIs: localhost, 127.0.0.1, or [::1] when it
    /// binds IPv6 too (it binds those two addresses and no other).
    /// </summary>
    public static bool IsListenerHost(string? host, bool bindsIPv6) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || host == "127.0.0.1" || (bindsIPv6 && IsIPv6Loopback(host));

    /// <summary>Whether <paramref name="host"/> is the IPv6 loopback literal, bracketed or not.</summary>
    public static bool IsIPv6Loopback(string? host) => host is "::1" or "[::1]";
}
