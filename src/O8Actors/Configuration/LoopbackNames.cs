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
}
