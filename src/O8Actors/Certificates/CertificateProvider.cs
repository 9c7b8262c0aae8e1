using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using O8Actors.Configuration;

namespace O8Actors.Certificates;

/// <summary>
/// Finds the redirect listener's TLS certificate: the one given in <see cref="CertificateOptions.Certificate"/>, else the
/// mkcert PEM files in <see cref="CertificateOptions.ResolvedFolder"/>, else new files made with <c>mkcert</c> when it is
/// on PATH, its CA already exists (<c>mkcert -install</c> was run) and <see cref="CertificateOptions.AutoCreate"/> is on.
/// It never creates a CA: trusting one is the user's decision.
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

        // mkcert makes a new CA whenever its CA root is empty, and a CA is a machine-wide trust decision that a library
        // must never take as a side effect: only sign a leaf with a CA the user already made (mkcert -install).
        var caRoot = await MkcertCaRootAsync(mkcert, MkcertInstructions.Steps(certPath, keyPath), ct).ConfigureAwait(false);
        if (caRoot is null || !File.Exists(Path.Combine(caRoot, "rootCA.pem")) || !File.Exists(Path.Combine(caRoot, "rootCA-key.pem")))
            throw NotFound(folder, certPath, keyPath,
                $"mkcert has no CA yet ({(caRoot is null ? "mkcert -CAROOT gave no folder" : $"no rootCA.pem and rootCA-key.pem in '{caRoot}'")}); " +
                "O8Actors never creates a CA by itself, so run 'mkcert -install' once (step 3 below)");

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

    /// <summary>The folder mkcert keeps its CA in (<c>mkcert -CAROOT</c>, which honours <c>$CAROOT</c>), or null.</summary>
    private static async Task<string?> MkcertCaRootAsync(string mkcert, string instructions, CancellationToken ct)
    {
        var (exitCode, stdout, _) = await RunAsync(mkcert, ["-CAROOT"], instructions, ct).ConfigureAwait(false);
        var folder = stdout.Trim();
        return exitCode == 0 && folder.Length > 0 ? folder : null;
    }

    private static async Task RunMkcertAsync(string mkcert, string certPath, string keyPath, CancellationToken ct)
    {
        var (exitCode, _, errorText) = await RunAsync(mkcert, MkcertInstructions.Arguments(certPath, keyPath), MkcertInstructions.Steps(certPath, keyPath), ct).ConfigureAwait(false);
        if (exitCode != 0)
        {
            // mkcert's stderr holds paths and reasons, never key material, so it is safe to show.
            throw new CertificateNotFoundException(
                $"mkcert ({mkcert}) failed with exit code {exitCode} while creating the listener certificate" +
                (errorText.Length > 0 ? $": {errorText}" : ".") + "\n" + MkcertInstructions.Steps(certPath, keyPath));
        }
    }

    /// <summary>Runs mkcert to its end; its output, trimmed stderr and exit code.</summary>
    /// <exception cref="CertificateNotFoundException">mkcert could not be started; the message ends with <paramref name="instructions"/>.</exception>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string mkcert, IEnumerable<string> arguments, string instructions, CancellationToken ct)
    {
        var start = new ProcessStartInfo(mkcert)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new CertificateNotFoundException(
                $"mkcert ({mkcert}) could not be started to create the listener certificate: {ex.Message}\n" + instructions);
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

        return (process.ExitCode, await stdout.ConfigureAwait(false), (await stderr.ConfigureAwait(false)).Trim());
    }

    private static CertificateNotFoundException NotFound(string folder, string certPath, string keyPath, string why) =>
        new($"No listener certificate was found in '{folder}' (expected '{certPath}' and '{keyPath}'), and {why}. " +
            $"To create it:\n{MkcertInstructions.Steps(certPath, keyPath)}\n" +
            "Or set o8.certificates.folder to where your certificate lives, or o8.listener.scheme = http for plain loopback.");
}
