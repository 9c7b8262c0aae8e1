using O8Actors.Certificates;
using O8Actors.Configuration;

namespace O8Actors.Tests.Certificates;

/// <summary>
/// The certificate and key file names the settings allow, each made by the first start: one combined PEM (cert-file =
/// key-file, which mkcert writes as one file), and names in a subfolder of the certificate folder. Real mkcert with a CA
/// of its own.
/// </summary>
public sealed class CertificateFileNamesTests : IDisposable
{
    // Well past one mkcert run; the lock's wait (a minute) is what a start that hung on a missing folder waited out.
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "o8-names-" + Guid.NewGuid().ToString("N"))).FullName;

    [Fact]
    public async Task One_combined_PEM_for_certificate_and_key_is_made_by_the_first_start()
    {
        if (OperatingSystem.IsWindows()) return; // The mkcert wrapper is a shell script.
        var provider = await ProviderAsync();
        var certs = Path.Combine(_dir, "certs");
        var options = new CertificateOptions { Folder = certs, CertFile = "localhost.pem", KeyFile = "localhost.pem", AutoCreate = true };
        new O8Options { Certificates = options }.Validate();

        // Before, the key's move took the only temporary file and the certificate's then failed ("could not be written").
        using var certificate = await provider.GetAsync(options, CancellationToken.None).WaitAsync(Wait);

        Assert.True(certificate.HasPrivateKey);
        var pem = await File.ReadAllTextAsync(Path.Combine(certs, "localhost.pem"));
        Assert.Contains("-----BEGIN CERTIFICATE-----", pem);
        Assert.Contains("PRIVATE KEY-----", pem);
        Assert.Equal(["localhost.pem", "localhost.pem.lock"], Directory.GetFiles(certs).Select(Path.GetFileName).Order());
        // A second start loads the same pair rather than making another.
        using var again = await provider.GetAsync(options, CancellationToken.None).WaitAsync(Wait);
        Assert.Equal(certificate.Thumbprint, again.Thumbprint);
    }

    [Fact]
    public async Task Files_named_in_a_subfolder_that_does_not_exist_yet_are_made_there()
    {
        if (OperatingSystem.IsWindows()) return; // The mkcert wrapper is a shell script.
        var provider = await ProviderAsync();
        var certs = Path.Combine(_dir, "certs");
        var options = new CertificateOptions
        {
            Folder = certs, CertFile = Path.Combine("tls", "localhost.pem"), KeyFile = Path.Combine("keys", "localhost-key.pem"), AutoCreate = true,
        };
        new O8Options { Certificates = options }.Validate();

        // Before, the lock file in the missing subfolder was retried as if another process held it, for a minute.
        using var certificate = await provider.GetAsync(options, CancellationToken.None).WaitAsync(Wait);

        Assert.True(certificate.HasPrivateKey);
        Assert.True(File.Exists(Path.Combine(certs, "tls", "localhost.pem")));
        Assert.True(File.Exists(Path.Combine(certs, "keys", "localhost-key.pem")));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { /* best effort */ }
    }

    /// <summary>A provider running the real mkcert with a CA of its own, made here the way a first 'mkcert' makes one.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private async Task<CertificateProvider> ProviderAsync()
    {
        var (mkcert, _) = MkcertStandIns.RealWithOwnCaRoot(_dir, "ca");
        await CertificateProviderTests.RunToEndAsync(mkcert, "-cert-file", Path.Combine(_dir, "t.pem"), "-key-file", Path.Combine(_dir, "t-key.pem"), "localhost");
        return new CertificateProvider(_ => mkcert);
    }
}
