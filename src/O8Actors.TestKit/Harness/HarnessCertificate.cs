using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using O8Actors.Certificates;
using O8Actors.Configuration;
using O8Actors.TestKit.Certificates;

namespace O8Actors.TestKit;

/// <summary>The listener certificate a harness chose, the root its scripted browser trusts, and a line saying which it is.</summary>
internal sealed class HarnessCertificate : IDisposable
{
    private readonly DevelopmentCertificateAuthority? _ca;

    private HarnessCertificate(X509Certificate2 certificate, X509Certificate2? trustedRoot, string description, DevelopmentCertificateAuthority? ca)
    {
        Certificate = certificate;
        TrustedRoot = trustedRoot;
        Description = description;
        _ca = ca;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The root for the scripted browser; <c>null</c> means the system store (where <c>mkcert -install</c> puts its CA).</summary>
    public X509Certificate2? TrustedRoot { get; }

    public string Description { get; }

    public bool IsDevelopmentCa => _ca is not null;

    public static async Task<HarnessCertificate> CreateAsync(HarnessCertificateSource source, CancellationToken cancellationToken)
    {
        if (source == HarnessCertificateSource.DevelopmentCa) return Development();

        // The lookup the certificate provider runs mkcert by (absolute PATH entries only), so the two agree on whether it is there.
        var mkcert = O8Actors.Certificates.ExecutableLocator.FindOnPath("mkcert");
        var options = new CertificateOptions { AutoCreate = mkcert is not null };
        var filesExist = File.Exists(Path.Combine(options.ResolvedFolder, options.CertFile)) && File.Exists(Path.Combine(options.ResolvedFolder, options.KeyFile));
        if (source == HarnessCertificateSource.PreferMkcert && mkcert is null && !filesExist) return Development();

        X509Certificate2 certificate;
        try
        {
            certificate = await CertificateProvider.LoadOrCreateAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (OAuthFlowException) when (source == HarnessCertificateSource.PreferMkcert)
        {
            return Development();
        }

        X509Certificate2? root;
        try
        {
            root = await FindMkcertRootAsync(mkcert, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A cancelled start: the certificate is nobody's yet, so it is disposed here.
            certificate.Dispose();
            throw;
        }

        if (root is null && source == HarnessCertificateSource.PreferMkcert)
        {
            // Without mkcert's root the scripted browser could only hope the system store has it; the dev CA always works.
            certificate.Dispose();
            return Development();
        }

        var folder = Path.GetFullPath(options.ResolvedFolder);
        return new HarnessCertificate(certificate, root, $"mkcert ({Path.Combine(folder, options.CertFile)})", null);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        if (_ca is not null)
        {
            _ca.Dispose();
        }
        else
        {
            TrustedRoot?.Dispose();
        }
    }

    private static HarnessCertificate Development()
    {
        var ca = DevelopmentCertificateAuthority.Create();
        return new HarnessCertificate(ca.IssueServerCertificate(), ca.RootCertificate, "development CA (throwaway; only the scripted browser trusts it)", ca);
    }

    /// <summary>mkcert's <c>rootCA.pem</c>: from <c>$CAROOT</c>, else from <c>mkcert -CAROOT</c>; <c>null</c> when not found.</summary>
    private static async Task<X509Certificate2?> FindMkcertRootAsync(string? mkcert, CancellationToken cancellationToken)
    {
        var folder = Environment.GetEnvironmentVariable("CAROOT");
        if (string.IsNullOrWhiteSpace(folder) && mkcert is not null)
        {
            folder = await RunAsync(mkcert, "-CAROOT", cancellationToken).ConfigureAwait(false);
        }

        var path = string.IsNullOrWhiteSpace(folder) ? null : Path.Combine(folder.Trim(), "rootCA.pem");
        if (path is null || !File.Exists(path)) return null;
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// <paramref name="program"/>'s standard output when it exits with 0 within 10 seconds, else <c>null</c>. Its standard
    /// error is read and dropped (a full pipe would stall it); it is killed unless it exited, the caller's cancellation included.
    /// </summary>
    internal static async Task<string?> RunAsync(string program, string argument, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, CreateNoWindow = true };
        start.ArgumentList.Add(argument);
        using var process = new Process { StartInfo = start };
        process.ErrorDataReceived += static (_, _) => { };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }

        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var exited = false;
        try
        {
            var output = await process.StandardOutput.ReadToEndAsync(timeout.Token).ConfigureAwait(false);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            exited = true;
            return process.ExitCode == 0 ? output : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            if (!exited)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
            }
        }
    }
}
