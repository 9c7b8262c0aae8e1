using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using O8Actors.Configuration;

namespace O8Actors.Certificates;

/// <summary>
/// Finds the redirect listener's TLS certificate: the one given in <see cref="CertificateOptions.Certificate"/>, else the
/// mkcert PEM files in <see cref="CertificateOptions.ResolvedFolder"/>, else new files made with <c>mkcert</c> when it is
/// on PATH and <see cref="CertificateOptions.AutoCreate"/> is on.
/// </summary>
internal sealed class CertificateProvider
{
    private readonly Func<string, string?> _findOnPath;

    /// <summary>A provider that looks for <c>mkcert</c> on this process's PATH.</summary>
    public static CertificateProvider Default { get; } = new();

    /// <summary>Creates a provider that looks for <c>mkcert</c> on this process's PATH.</summary>
    public CertificateProvider() : this(ExecutableLocator.FindOnPath) { }

    /// <summary>Creates a provider with its own program lookup (a program name in, its full path or null out).</summary>
    /// <param name="findOnPath">Resolves <c>mkcert</c> to a full path, or null when it is not installed.</param>
    public CertificateProvider(Func<string, string?> findOnPath)
    {
        ArgumentNullException.ThrowIfNull(findOnPath);
        _findOnPath = findOnPath;
    }

    /// <summary>Loads the listener certificate, creating it with mkcert when allowed.</summary>
    /// <exception cref="CertificateNotFoundException">No certificate was found and none could be created; the message gives the commands to run.</exception>
    /// <exception cref="ListenerStartException">The files exist but cannot be read as a certificate and key.</exception>
    public static Task<X509Certificate2> LoadOrCreateAsync(CertificateOptions options, CancellationToken ct) =>
        Default.GetAsync(options, ct);

    /// <inheritdoc cref="LoadOrCreateAsync"/>
    public async Task<X509Certificate2> GetAsync(CertificateOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Certificate is not null) return options.Certificate;

        var folder = Path.GetFullPath(options.ResolvedFolder);
        var certPath = Path.Combine(folder, options.CertFile);
        var keyPath = Path.Combine(folder, options.KeyFile);
        if (File.Exists(certPath) && File.Exists(keyPath)) return Load(certPath, keyPath);

        if (!options.AutoCreate)
            throw NotFound(folder, certPath, keyPath, "automatic creation is off (o8.certificates.auto-create = off)");

        var mkcert = _findOnPath("mkcert");
        if (mkcert is null)
            throw NotFound(folder, certPath, keyPath, "mkcert is not on PATH, so they could not be created");

        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
        else Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // holds a private key
        await RunMkcertAsync(mkcert, certPath, keyPath, ct).ConfigureAwait(false);
        if (!File.Exists(certPath) || !File.Exists(keyPath))
            throw NotFound(folder, certPath, keyPath, $"mkcert ({mkcert}) exited successfully but did not write them");
        return Load(certPath, keyPath);
    }

    private static X509Certificate2 Load(string certPath, string keyPath)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            // A PEM key is ephemeral; SslStream on Windows cannot use ephemeral keys, so round-trip through PKCS#12.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ListenerStartException(
                $"The listener certificate '{certPath}' with key '{keyPath}' could not be loaded ({ex.Message}). " +
                $"Delete both files and recreate them:\n{MkcertInstructions.Steps(certPath, keyPath)}", ex);
        }
    }

    private static async Task RunMkcertAsync(string mkcert, string certPath, string keyPath, CancellationToken ct)
    {
        var start = new ProcessStartInfo(mkcert)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in MkcertInstructions.Arguments(certPath, keyPath)) start.ArgumentList.Add(argument);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new CertificateNotFoundException(
                $"mkcert ({mkcert}) could not be started to create the listener certificate: {ex.Message}\n" +
                MkcertInstructions.Steps(certPath, keyPath));
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
            throw;
        }

        await stdout.ConfigureAwait(false);
        var errorText = (await stderr.ConfigureAwait(false)).Trim();
        if (process.ExitCode != 0)
        {
            // mkcert's stderr holds paths and reasons, never key material, so it is safe to show.
            throw new CertificateNotFoundException(
                $"mkcert ({mkcert}) failed with exit code {process.ExitCode} while creating the listener certificate" +
                (errorText.Length > 0 ? $": {errorText}" : ".") + "\n" + MkcertInstructions.Steps(certPath, keyPath));
        }
    }

    private static CertificateNotFoundException NotFound(string folder, string certPath, string keyPath, string why) =>
        new($"No listener certificate was found in '{folder}' (expected '{certPath}' and '{keyPath}'), and {why}. " +
            $"To create it:\n{MkcertInstructions.Steps(certPath, keyPath)}\n" +
            "Or set o8.certificates.folder to where your certificate lives, or o8.listener.scheme = http for plain loopback.");
}
