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

    /// <summary>Steps to make the certificate by hand on this platform, one per line.</summary>
    public static string Steps(string certPath, string keyPath) => Steps(certPath, keyPath, OperatingSystem.IsWindows());

    /// <summary>
    /// Steps to make the certificate by hand, one per line: for PowerShell on Windows, else for a POSIX shell. Every
    /// command may be run again: the NSS database is created only when it is missing (certutil would prompt on an existing
    /// one, and without a terminal ask forever), and mkcert, which does not create folders, gets its folder first.
    /// </summary>
    internal static string Steps(string certPath, string keyPath, bool windows)
    {
        // The key's folder too when it is another (a key file named in a subfolder of its own): mkcert makes neither.
        var folders = new[] { Path.GetDirectoryName(certPath) ?? ".", Path.GetDirectoryName(keyPath) ?? "." }.Distinct().ToList();
        var folder = string.Join(windows ? "\",\"" : "\" \"", folders);
        return windows
            ? "  1. Install mkcert (https://github.com/FiloSottile/mkcert) and put it on PATH.\n" +
              $"  {InstallStep(windows)}. Trust the mkcert CA once:\n" +
              "       mkcert -install\n" +
              "  3. Create the listener's certificate (in PowerShell; mkcert replaces files that exist):\n" +
              $"       New-Item -ItemType Directory -Force -Path \"{folder}\" > $null; {CreateCommand(certPath, keyPath)}"
            : "  1. Install mkcert (https://github.com/FiloSottile/mkcert) and put it on PATH.\n" +
              "  2. On Linux, so Chromium trusts the CA, create its NSS database first if it is missing (needs libnss3-tools):\n" +
              $"       {NssFolderCommand}\n" +
              $"       {NssDatabaseCommand}\n" +
              $"  {InstallStep(windows)}. Trust the mkcert CA once:\n" +
              "       mkcert -install\n" +
              "  4. Create the listener's certificate (mkcert replaces files that exist):\n" +
              $"       mkdir -p \"{folder}\" && {CreateCommand(certPath, keyPath)}";
    }

    /// <summary>The number of the step of <see cref="Steps(string, string, bool)"/> that runs <c>mkcert -install</c>: Linux's NSS step comes first.</summary>
    internal static int InstallStep(bool windows) => windows ? 2 : 3;

    /// <summary>
    /// Why mkcert may not make a certificate with the CA in <paramref name="caRoot"/> (<c>mkcert -CAROOT</c>; null when it
    /// gave none), given which of its files exist, and what to do, pointing at the steps on this kind of machine.
    /// </summary>
    internal static string NoCa(string? caRoot, bool hasCertificate, bool hasKey, bool windows)
    {
        // A CA certificate without its key (a CA root copied from another machine): mkcert -install trusts the
        // certificate and makes no key, so sending the user there again would only loop.
        if (caRoot is not null && hasCertificate && !hasKey)
            return $"mkcert's CA in '{caRoot}' has its certificate (rootCA.pem) but not its key (rootCA-key.pem), as when a CA " +
                   "root is copied from another machine without it, and 'mkcert -install' does not make one; copy rootCA-key.pem " +
                   $"into '{caRoot}' (or set CAROOT to the folder that has it), or make the certificate where the key is and copy " +
                   "both files here";
        var why = caRoot is null ? "mkcert -CAROOT gave no folder" : $"no rootCA.pem and rootCA-key.pem in '{caRoot}'";
        return $"mkcert has no CA yet ({why}); O8Actors never creates a CA by itself, so run 'mkcert -install' once " +
               $"(step {InstallStep(windows)} below)";
    }

    /// <summary>Creates the folder of Chromium's NSS database on Linux, which must exist before its database can be made.</summary>
    public const string NssFolderCommand = "mkdir -p \"$HOME/.pki/nssdb\"";

    /// <summary>Creates Chromium's NSS database on Linux only when it is missing (the form .ci/run uses): safe to run again.</summary>
    public const string NssDatabaseCommand =
        "[ -f \"$HOME/.pki/nssdb/cert9.db\" ] || certutil -d \"sql:$HOME/.pki/nssdb\" -N --empty-password";
}
