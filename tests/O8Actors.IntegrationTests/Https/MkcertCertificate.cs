using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using O8Actors.IntegrationTests.Infrastructure;

namespace O8Actors.IntegrationTests.Https;

/// <summary>
/// A real mkcert certificate for <c>localhost 127.0.0.1 ::1</c>, made in a temp folder and signed by the local CA
/// that <c>mkcert -install</c> put into Chromium's NSS database.
/// </summary>
public sealed class MkcertCertificate : IDisposable
{
    private readonly TempFolder _folder;

    private MkcertCertificate(TempFolder folder, string certFile, string keyFile, X509Certificate2 certificate)
    {
        _folder = folder;
        CertFile = certFile;
        KeyFile = keyFile;
        Certificate = certificate;
    }

    /// <summary>The PEM certificate file.</summary>
    public string CertFile { get; }

    /// <summary>The PEM private key file.</summary>
    public string KeyFile { get; }

    /// <summary>The folder holding both files.</summary>
    public string Folder => _folder.Path;

    /// <summary>The loaded certificate with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>
    /// The local CA's certificate file (<c>rootCA.pem</c> in <c>mkcert -CAROOT</c>), for a process that must trust the
    /// mkcert certificates of the tests' servers (Node.js reads it from <c>NODE_EXTRA_CA_CERTS</c>); null without mkcert.
    /// </summary>
    public static string? RootCaFile()
    {
        var mkcert = ExecutableLocator.Find("mkcert");
        if (mkcert is null) return null;
        var start = new ProcessStartInfo(mkcert) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-CAROOT");
        using var process = Process.Start(start);
        if (process is null) return null;
        var folder = process.StandardOutput.ReadToEnd().Trim();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10))) return null;
        var file = Path.Combine(folder, "rootCA.pem");
        return process.ExitCode == 0 && File.Exists(file) ? file : null;
    }

    /// <summary>Runs <c>mkcert -ecdsa</c> into a fresh temp folder and loads the result.</summary>
    /// <exception cref="InvalidOperationException">mkcert is missing or failed.</exception>
    public static async Task<MkcertCertificate> CreateAsync(CancellationToken cancellationToken = default)
    {
        var mkcert = ExecutableLocator.Require("Install mkcert (Debian: apt-get install mkcert libnss3-tools) and run `mkcert -install`.", "mkcert");
        var folder = new TempFolder("o8-interop-cert-");
        try
        {
            var certFile = Path.Combine(folder.Path, "localhost.pem");
            var keyFile = Path.Combine(folder.Path, "localhost-key.pem");
            var start = new ProcessStartInfo(mkcert)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-ecdsa", "-cert-file", certFile, "-key-file", keyFile, "localhost", "127.0.0.1", "::1" })
                start.ArgumentList.Add(arg);

            using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start mkcert.");
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"mkcert failed with exit code {process.ExitCode}: {await stderr}{await stdout}");

            var certificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            return new MkcertCertificate(folder, certFile, keyFile, certificate);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Certificate.Dispose();
        _folder.Dispose();
    }
}
