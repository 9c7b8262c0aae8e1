using System.Runtime.Versioning;
using O8Actors.Certificates;

namespace O8Actors.Tests.Certificates;

/// <summary>Shell scripts that stand in for mkcert, handed to <see cref="CertificateProvider"/> as its program lookup.</summary>
[UnsupportedOSPlatform("windows")]
internal static class MkcertStandIns
{
    /// <summary>
    /// A fake mkcert in <paramref name="folder"/> with a CA (so the provider goes on to make the leaf) whose leaf step is
    /// <paramref name="leafScript"/> ($3 the certificate path, $5 the key path).
    /// </summary>
    public static string Fake(string folder, string leafScript)
    {
        var caRoot = Path.Combine(folder, "ca");
        Directory.CreateDirectory(caRoot);
        File.WriteAllText(Path.Combine(caRoot, "rootCA.pem"), "ca");
        File.WriteAllText(Path.Combine(caRoot, "rootCA-key.pem"), "key");
        return Script(Path.Combine(folder, "fake-mkcert"), $"if [ \"$1\" = -CAROOT ]; then echo '{caRoot}'; exit 0; fi\n{leafScript}");
    }

    /// <summary>
    /// The machine's real mkcert with its CA folder set to a new, empty <paramref name="caRootName"/> in
    /// <paramref name="folder"/>: never the machine's own CA.
    /// </summary>
    public static (string Mkcert, string CaRoot) RealWithOwnCaRoot(string folder, string caRootName)
    {
        var mkcert = ExecutableLocator.FindOnPath("mkcert") ?? throw new InvalidOperationException("mkcert must be installed (.ci/run installs it)");
        var caRoot = Directory.CreateDirectory(Path.Combine(folder, caRootName)).FullName;
        return (Script(Path.Combine(folder, "mkcert-with-" + caRootName), $"CAROOT='{caRoot}' exec '{mkcert}' \"$@\""), caRoot);
    }

    /// <summary>
    /// A stand-in in <paramref name="folder"/> that hangs when it is first asked for a certificate (until it is killed),
    /// having made the folder <paramref name="hungMarker"/>; any other call runs <paramref name="mkcert"/>.
    /// </summary>
    public static string HangsAtFirstCertificate(string folder, string mkcert, string hungMarker) =>
        Script(Path.Combine(folder, "hanging-mkcert"),
            $"if [ \"$1\" != -CAROOT ] && mkdir '{hungMarker}' 2>/dev/null; then sleep 600; exit 1; fi\nexec '{mkcert}' \"$@\"");

    private static string Script(string path, string body)
    {
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
