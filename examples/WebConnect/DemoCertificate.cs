using System.Security.Cryptography.X509Certificates;
using O8Actors.Configuration;
using O8Actors.TestKit.Certificates;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// The demo's HTTPS certificate. Server mode needs HTTPS: each login's browser-binding cookie is a <c>__Host-</c>
/// cookie, which browsers keep only when Secure. A real deployment has its own certificate (or TLS at its proxy).
/// </summary>
internal static class DemoCertificate
{
    /// <summary>
    /// mkcert's <c>localhost</c> certificate from the folder O8Actors' loopback listener uses (browsers that ran
    /// <c>mkcert -install</c> trust it); without one, a certificate from the TestKit's development CA, whose root is
    /// written next to the app for <c>curl --cacert</c>.
    /// </summary>
    public static X509Certificate2 Load(ILogger log)
    {
        var mkcert = new CertificateOptions();
        var cert = Path.Combine(mkcert.ResolvedFolder, mkcert.CertFile);
        var key = Path.Combine(mkcert.ResolvedFolder, mkcert.KeyFile);
        if (File.Exists(cert) && File.Exists(key))
        {
            log.LogInformation("HTTPS with mkcert's certificate {Path}", cert);
            // Through PKCS#12: a PEM-loaded key is not usable by every SslStream backend.
            using var pem = X509Certificate2.CreateFromPemFile(cert, key);
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
        }

        using var ca = DevelopmentCertificateAuthority.Create("WebConnect demo CA (untrusted)");
        var root = Path.Combine(AppContext.BaseDirectory, "webconnect-demo-ca.pem");
        File.WriteAllText(root, ca.RootCertificate.ExportCertificatePem());
        log.LogWarning("No mkcert certificate in {Folder} (run `mkcert -install` and `mkcert -cert-file localhost.pem -key-file localhost-key.pem localhost 127.0.0.1 ::1` there); " +
                       "using an untrusted demo CA: curl --cacert {Root}", mkcert.ResolvedFolder, root);
        return ca.IssueServerCertificate();
    }
}
