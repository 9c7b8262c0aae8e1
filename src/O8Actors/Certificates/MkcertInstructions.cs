using System.Net;

namespace O8Actors.Certificates;

/// <summary>The exact commands a user runs to make the listener's certificate by hand.</summary>
internal static class MkcertInstructions
{
    /// <summary>
    /// The names every listener certificate covers: the redirect URI may use any of them, and o8.listener.host may be
    /// no other (the listener binds 127.0.0.1 and [::1]).
    /// </summary>
    public static readonly string[] Names = ["localhost", "127.0.0.1", "::1"];

    /// <summary>Whether two host names (or IP literals, bracketed or not) are the same name.</summary>
    public static bool SameName(string a, string b)
    {
        a = Bare(a);
        b = Bare(b);
        if (IPAddress.TryParse(a, out var x) && IPAddress.TryParse(b, out var y)) return x.Equals(y);
        return string.Equals(a.TrimEnd('.'), b.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A host name without the brackets of a URI's IPv6 literal.</summary>
    public static string Bare(string? host) =>
        host is null ? "" : host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;

    /// <summary>Arguments for <c>mkcert</c>: ECDSA P-256, because every callback is a new TLS handshake and ECDSA's is far cheaper than RSA-2048's.</summary>
    public static string[] Arguments(string certPath, string keyPath) =>
        ["-ecdsa", "-cert-file", certPath, "-key-file", keyPath, .. Names];

    /// <summary>The command line to create the files, quoted for a shell.</summary>
    public static string CreateCommand(string certPath, string keyPath) =>
        $"mkcert -ecdsa -cert-file \"{certPath}\" -key-file \"{keyPath}\" {string.Join(' ', Names)}";

    /// <summary>Steps to make the certificate by hand, one per line.</summary>
    public static string Steps(string certPath, string keyPath) =>
        "  1. Install mkcert (https://github.com/FiloSottile/mkcert) and put it on PATH.\n" +
        "  2. On Linux, so Chromium trusts the CA, create its NSS database first (needs libnss3-tools):\n" +
        "       mkdir -p $HOME/.pki/nssdb && certutil -d sql:$HOME/.pki/nssdb -N --empty-password\n" +
        "  3. Trust the mkcert CA once:\n" +
        "       mkcert -install\n" +
        "  4. Create the listener's certificate (mkcert replaces files that exist):\n" +
        $"       {CreateCommand(certPath, keyPath)}";
}
