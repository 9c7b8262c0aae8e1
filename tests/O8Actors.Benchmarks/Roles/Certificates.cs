using System.Security.Cryptography.X509Certificates;

namespace O8Actors.Benchmarks.Roles;

/// <summary>Loads the mkcert certificate the driver made for a row (RSA-2048 or ECDSA P-256).</summary>
internal static class BenchCertificates
{
    public static X509Certificate2? Load(Args args)
    {
        if (args.Get("scheme", "https") != "https") return null;
        var folder = args.Get("certs", "");
        var kind = args.Get("cert", "rsa");
        return X509Certificate2.CreateFromPemFile(Path.Combine(folder, $"{kind}.pem"), Path.Combine(folder, $"{kind}-key.pem"));
    }
}
