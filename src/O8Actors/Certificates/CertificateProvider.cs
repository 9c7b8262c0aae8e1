using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using O8Actors.Configuration;

namespace O8Actors.Certificates;

/// <summary>
/// Finds the redirect listener's TLS certificate: the one given in <see cref="CertificateOptions.Certificate"/>, else the
/// mkcert PEM files in <see cref="CertificateOptions.ResolvedFolder"/>, else new files made with <c>mkcert</c> when it is
/// on PATH, its CA already exists (<c>mkcert -install</c> makes it) and <see cref="CertificateOptions.AutoCreate"/> is on;
/// when mkcert says that CA is not installed in a trust store, the new certificate is used with a warning naming
/// <c>mkcert -install</c>.
/// Files that exist are checked before use (valid now, naming the listener's host, their key the certificate's): Kestrel
/// serves any certificate, and a browser that refuses one only makes each login time out with no hint. An unusable pair
/// is remade where a missing one would be made, and refused otherwise. It never creates a CA: trusting one is the user's decision.
/// </summary>
internal sealed partial class CertificateProvider
{
    /// <summary>How far in the future a certificate's start may be and still be used (a clock corrected after mkcert ran).</summary>
    public static readonly TimeSpan NotBeforeSlack = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A certificate that ends sooner than this is used, with a warning: it still works. A running listener remakes one
    /// that mkcert's CA issued within this window, where it may make certificates (<see cref="RenewAsync"/>).
    /// </summary>
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(7);

    /// <summary>
    /// The most a listener start waits for another process making the certificate: mkcert takes well under a second, so
    /// a minute only ends a wait on a lock holder that hangs (a dead one frees it).
    /// </summary>
    internal static readonly TimeSpan LockWait = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The most one mkcert run may take before it is stopped: it takes well under a second, so this only ends one that
    /// hangs (a trust-store tool it runs waiting for input). Shorter than <see cref="LockWait"/>, so a process waiting for
    /// the folder's lock gets it when the holder's mkcert hangs; without a limit the holder kept the lock, and an
    /// on-first-use listener its start, until the process ended.
    /// </summary>
    internal static readonly TimeSpan DefaultMkcertTimeout = TimeSpan.FromSeconds(30);

    private readonly Func<string, string?> _findOnPath;
    private readonly TimeProvider _time;

    /// <summary>A provider that looks for <c>mkcert</c> on this process's PATH.</summary>
    public static CertificateProvider Default { get; } = new();

    /// <summary>Creates a provider that looks for <c>mkcert</c> on this process's PATH.</summary>
    public CertificateProvider() : this(ExecutableLocator.FindOnPath) { }

    /// <summary>Creates a provider with its own program lookup (a program name in, its full path or null out).</summary>
    /// <param name="findOnPath">Resolves <c>mkcert</c> to a full path, or null when it is not installed.</param>
    /// <param name="time">The clock certificates' validity is checked against; null is the system clock.</param>
    public CertificateProvider(Func<string, string?> findOnPath, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(findOnPath);
        _findOnPath = findOnPath;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How long one mkcert run may take (<see cref="DefaultMkcertTimeout"/>; tests shorten it).</summary>
    internal TimeSpan MkcertTimeout { get; init; } = DefaultMkcertTimeout;

    /// <summary>Loads the listener certificate for <c>localhost</c>, creating or remaking it with mkcert when allowed.</summary>
    /// <exception cref="CertificateNotFoundException">No certificate was found and none could be created; the message gives the commands to run.</exception>
    /// <exception cref="ListenerStartException">The files exist but cannot be read, or are unusable (expired, not yet valid, not naming the host, another certificate's key) and could not be remade.</exception>
    public static Task<X509Certificate2> LoadOrCreateAsync(CertificateOptions options, CancellationToken ct) =>
        Default.GetAsync(options, ct);

    /// <summary>Loads the listener certificate for <paramref name="host"/>, creating or remaking it with mkcert when allowed.</summary>
    /// <param name="options">Where the files are, and whether mkcert may make them.</param>
    /// <param name="host">The host name the browser is sent to (o8.listener.host); the certificate must name it.</param>
    /// <param name="logger">Gets a warning when a certificate is about to expire or is being remade; null logs nothing.</param>
    /// <param name="ct">Cancels a wait for another process's creation and kills a running mkcert.</param>
    /// <exception cref="CertificateNotFoundException">No certificate was found and none could be created; the message gives the commands to run.</exception>
    /// <exception cref="ListenerStartException">The files exist but cannot be read, or are unusable and could not be remade; the message says why and gives the commands.</exception>
    public static Task<X509Certificate2> LoadOrCreateAsync(CertificateOptions options, string host, ILogger? logger, CancellationToken ct) =>
        Default.GetAsync(options, host, logger, ct);

    /// <inheritdoc cref="LoadOrCreateAsync(CertificateOptions, CancellationToken)"/>
    public Task<X509Certificate2> GetAsync(CertificateOptions options, CancellationToken ct) =>
        GetAsync(options, "localhost", null, ct);

    /// <inheritdoc cref="LoadOrCreateAsync(CertificateOptions, string, ILogger, CancellationToken)"/>
    public async Task<X509Certificate2> GetAsync(CertificateOptions options, string host, ILogger? logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        // A certificate handed over in code is the host's own business (tests, custom stores): used as is.
        if (options.Certificate is not null) return options.Certificate;

        var files = Files.Of(options, host);
        string? problem = null;
        if (files.BothExist)
        {
            var found = Inspect(files);
            if (found.Certificate is not null) return Accept(found.Certificate, files, logger);
            problem = found.Problem;
        }

        var (mkcert, _, whyNot) = await CreatorAsync(options, files, ct).ConfigureAwait(false);
        if (mkcert is null)
            throw problem is null ? NotFound(files, whyNot!) : Unusable(files, problem, $"it was not remade: {whyNot}");
        return await CreateAsync(mkcert, files, logger, static _ => true, ct).ConfigureAwait(false);
    }

    /// <summary>The paths of one pair and the host it must name.</summary>
    private sealed record Files(string Folder, string CertPath, string KeyPath, string Host)
    {
        public static Files Of(CertificateOptions options, string host)
        {
            var folder = Path.GetFullPath(options.ResolvedFolder);
            // Full paths, so that one file named two ways ("x.pem", "./x.pem") is seen as one combined PEM.
            return new Files(folder, Path.GetFullPath(Path.Combine(folder, options.CertFile)),
                Path.GetFullPath(Path.Combine(folder, options.KeyFile)), host);
        }

        public bool BothExist => File.Exists(CertPath) && File.Exists(KeyPath);

        /// <summary>Certificate and key in one file (cert-file = key-file), which mkcert writes as one PEM.</summary>
        public bool Combined => string.Equals(CertPath, KeyPath,
            OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

        public string Steps => MkcertInstructions.Steps(CertPath, KeyPath);
    }

    /// <summary>mkcert's path and CA folder when this provider may make certificates in the folder; otherwise null and why not.</summary>
    private async Task<(string? Mkcert, string? CaRoot, string? WhyNot)> CreatorAsync(CertificateOptions options, Files files, CancellationToken ct)
    {
        if (!options.AutoCreate) return (null, null, "automatic creation is off (o8.certificates.auto-create = off)");

        var mkcert = _findOnPath("mkcert");
        if (mkcert is null) return (null, null, "mkcert is not on PATH");

        // mkcert makes a new CA whenever its CA root is empty, and a CA is a machine-wide trust decision that a library
        // must never take as a side effect: only sign a leaf with a CA the user already made (mkcert -install).
        var caRoot = await MkcertCaRootAsync(mkcert, files.Steps, ct).ConfigureAwait(false);
        var hasCertificate = caRoot is not null && File.Exists(Path.Combine(caRoot, "rootCA.pem"));
        var hasKey = caRoot is not null && File.Exists(Path.Combine(caRoot, "rootCA-key.pem"));
        return hasCertificate && hasKey
            ? (mkcert, caRoot, null)
            : (null, null, MkcertInstructions.NoCa(caRoot, hasCertificate, hasKey, OperatingSystem.IsWindows()));
    }

    /// <summary>
    /// Makes the pair with mkcert under a lock file, so that processes (or runtimes) starting together run it once and
    /// the others load its pair; mkcert writes to temporary names beside the files, moved into place only when whole.
    /// A usable pair found under the lock is kept when <paramref name="keep"/> says so (made by whoever held the lock before).
    /// </summary>
    private async Task<X509Certificate2> CreateAsync(string mkcert, Files files, ILogger? logger, Func<X509Certificate2, bool> keep,
        CancellationToken ct)
    {
        // The files' own folders too: a file name may name a subfolder (tls/localhost.pem), and mkcert makes no folder.
        foreach (var folder in new[] { files.Folder, Path.GetDirectoryName(files.CertPath)!, Path.GetDirectoryName(files.KeyPath)! })
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
            else Directory.CreateDirectory(folder, Accounts.PrivateFiles.Folder); // holds a private key
        }

        using (await LockAsync(files, ct).ConfigureAwait(false))
        {
            // Whoever held the lock before may have just made a good pair: that one is used, not replaced.
            if (files.BothExist)
            {
                var found = Inspect(files);
                if (found.Certificate is not null && keep(found.Certificate)) return Accept(found.Certificate, files, logger);
                found.Certificate?.Dispose();
                // Logged only here, under the lock: a pair seen mid-replacement outside it may have been fine all along.
                if (found.Problem is not null)
                    logger?.LogWarning("The listener certificate '{CertificatePath}' cannot be used ({Problem}); remaking it with mkcert",
                        files.CertPath, found.Problem);
            }

            // Beside the targets, so each move is a rename within one file system, which no reader sees half done.
            var certDirectory = Path.GetDirectoryName(files.CertPath)!;
            var keyDirectory = Path.GetDirectoryName(files.KeyPath)!;
            var unique = Guid.NewGuid().ToString("N");
            var tempCert = Path.Combine(certDirectory, $".{Path.GetFileName(files.CertPath)}.{unique}.tmp");
            var tempKey = Path.Combine(keyDirectory, $".{Path.GetFileName(files.KeyPath)}.{unique}.tmp");
            try
            {
                await RunMkcertAsync(mkcert, tempCert, tempKey, files, logger, ct).ConfigureAwait(false);
                if (!File.Exists(tempCert) || !File.Exists(tempKey))
                    throw NotFound(files, $"mkcert ({mkcert}) exited successfully but did not write them");
                // Key first: a reader between the two moves sees the old certificate with the new key, a mismatch it
                // reports as such and rechecks under this lock, never a certificate whose key is not there yet. A combined
                // PEM is one temporary file (the two temporary names are one name), moved once.
                File.Move(tempKey, files.KeyPath, overwrite: true);
                if (!files.Combined) File.Move(tempCert, files.CertPath, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ListenerStartException(
                    $"The listener certificate could not be written to '{files.CertPath}' and '{files.KeyPath}' ({ex.Message}). " +
                    $"Check the folder's permissions, or create the files yourself:\n{files.Steps}", ex);
            }
            finally
            {
                TryDelete(tempCert);
                TryDelete(tempKey);
            }

            var made = Inspect(files);
            return made.Certificate is not null
                ? Accept(made.Certificate, files, logger)
                : throw Unusable(files, made.Problem!, $"mkcert ({mkcert}) has just made it so");
        }
    }

    /// <summary>Takes the folder's lock file (an OS lock, freed when its holder exits however it exits).</summary>
    private static async Task<FileStream> LockAsync(Files files, CancellationToken ct)
    {
        var lockPath = files.CertPath + ".lock";
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // The lock every O8Actors lock file takes (flock on Unix, also between two streams of one process; a share
                // mode on Windows), created the owner's alone.
                return Accounts.PrivateFiles.OpenLock(lockPath);
            }
            catch (IOException ex) when (Accounts.PrivateFiles.IsLockedElsewhere(ex) && waited.Elapsed < LockWait)
            {
                await Task.Delay(LockPoll, ct).ConfigureAwait(false);
            }
            catch (IOException ex) when (!Accounts.PrivateFiles.IsLockedElsewhere(ex))
            {
                // No one holds it (a missing folder, a full disk): waiting would not help, and "another process" would mislead.
                throw new ListenerStartException(
                    $"The listener certificate could not be created: its lock file '{lockPath}' could not be opened " +
                    $"({ex.Message}). Check o8.certificates.folder, or create the files yourself:\n{files.Steps}", ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                // Refused at once, not held by anyone: waiting would not help, and "another process" would mislead.
                throw new ListenerStartException(
                    $"The listener certificate could not be created: access to its lock file '{lockPath}' was denied " +
                    $"({ex.Message}); the folder '{Path.GetDirectoryName(lockPath)}' is not writable by this user, or the lock " +
                    $"path is not a file. Fix the folder's permissions, or create the files yourself:\n{files.Steps}", ex);
            }
            catch (IOException ex)
            {
                throw new ListenerStartException(
                    $"The listener certificate could not be created: its lock file '{lockPath}' could not be taken within " +
                    $"{LockWait.TotalSeconds:0} s ({ex.Message}); another process may be creating it. " +
                    $"Try again, or create the files yourself:\n{files.Steps}", ex);
            }
        }
    }

    /// <summary>The pair as a usable certificate, or why it cannot be used.</summary>
    /// <exception cref="ListenerStartException">The files cannot be read as a certificate and a private key at all.</exception>
    private (X509Certificate2? Certificate, string? Problem) Inspect(Files files)
    {
        X509Certificate2 publicPart;
        try
        {
            // The certificate alone: CreateFromPemFile with no key path would look for the key in the certificate's file.
            publicPart = X509Certificate2.CreateFromPem(File.ReadAllText(files.CertPath));
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw Unreadable(files, ex);
        }

        using (publicPart)
        {
            var now = _time.GetUtcNow();
            var notAfter = new DateTimeOffset(publicPart.NotAfter.ToUniversalTime());
            var notBefore = new DateTimeOffset(publicPart.NotBefore.ToUniversalTime());
            if (notAfter <= now) return (null, $"it expired on {Format(notAfter)}");
            if (notBefore > now + NotBeforeSlack) return (null, $"it is not valid before {Format(notBefore)}");
            var (names, addresses) = SubjectAlternativeNames(publicPart);
            if (!Names(names, addresses, files.Host))
            {
                var all = names.Concat(addresses.Select(a => a.ToString())).ToList();
                return (null, $"it does not name {MkcertInstructions.Bare(files.Host)}, the listener's host (o8.listener.host); " +
                              (all.Count == 0 ? "it has no subject alternative names" : $"it names {string.Join(", ", all)}"));
            }
        }

        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(files.CertPath, files.KeyPath);
            // A PEM key is ephemeral; SslStream on Windows cannot use ephemeral keys, so round-trip through PKCS#12.
            return (X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null), null);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A readable key of another certificate is what a torn creation leaves: stale, so remade when allowed.
            // Anything else in the key file is not ours to overwrite.
            if (HoldsAPrivateKey(files.KeyPath)) return (null, $"its key file '{files.KeyPath}' holds the private key of another certificate");
            throw Unreadable(files, ex);
        }
    }

    private X509Certificate2 Accept(X509Certificate2 certificate, Files files, ILogger? logger)
    {
        if (IsDue(certificate))
            logger?.LogWarning(
                "The listener certificate '{CertificatePath}' expires on {NotAfter}; browsers will refuse it after that. Recreate it before then: {Command}",
                files.CertPath, Format(NotAfter(certificate)), MkcertInstructions.CreateCommand(files.CertPath, files.KeyPath));
        return certificate;
    }

    private static (List<string> Names, List<IPAddress> Addresses) SubjectAlternativeNames(X509Certificate2 certificate)
    {
        List<string> names = [];
        List<IPAddress> addresses = [];
        foreach (var san in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.AddRange(san.EnumerateDnsNames());
            addresses.AddRange(san.EnumerateIPAddresses());
        }

        return (names, addresses);
    }

    // Browsers match only the subject alternative names (never the CN); a wildcard cannot cover a single-label name or an address.
    private static bool Names(List<string> names, List<IPAddress> addresses, string host)
    {
        var bare = MkcertInstructions.Bare(host);
        return IPAddress.TryParse(bare, out var address)
            ? addresses.Contains(address)
            : names.Any(n => MkcertInstructions.SameName(n, bare));
    }

    private static bool HoldsAPrivateKey(string keyPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(keyPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        using var ecdsa = ECDsa.Create();
        using var rsa = RSA.Create();
        return Imports(() => ecdsa.ImportFromPem(text)) || Imports(() => rsa.ImportFromPem(text));

        static bool Imports(Action import)
        {
            try
            {
                import();
                return true;
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                return false;
            }
        }
    }

    private static string Format(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* a stray temporary file is harmless */ }
    }

    private static ListenerStartException Unreadable(Files files, Exception ex) =>
        // The messages of the PEM readers name formats and lengths, never key bytes.
        new($"The listener certificate '{files.CertPath}' with key '{files.KeyPath}' could not be loaded ({ex.Message}). " +
            $"Delete both files and recreate them:\n{files.Steps}", ex);

    private static ListenerStartException Unusable(Files files, string problem, string why) =>
        new($"The listener certificate '{files.CertPath}' (key '{files.KeyPath}') cannot be used: {problem}. Browsers refuse " +
            $"such a certificate, so every login would time out; {why}. Recreate it (mkcert replaces both files):\n{files.Steps}\n" +
            "Or set o8.certificates.folder to where a valid certificate lives, or o8.listener.scheme = http for plain loopback.");

    /// <summary>The folder mkcert keeps its CA in (<c>mkcert -CAROOT</c>, which honours <c>$CAROOT</c>), or null.</summary>
    private async Task<string?> MkcertCaRootAsync(string mkcert, string instructions, CancellationToken ct)
    {
        var (exitCode, stdout, _) = await RunAsync(mkcert, ["-CAROOT"], instructions, MkcertTimeout, ct).ConfigureAwait(false);
        var folder = stdout.Trim();
        return exitCode == 0 && folder.Length > 0 ? folder : null;
    }

    private async Task RunMkcertAsync(string mkcert, string certPath, string keyPath, Files files, ILogger? logger, CancellationToken ct)
    {
        var (exitCode, _, errorText) = await RunAsync(mkcert, MkcertInstructions.Arguments(certPath, keyPath), files.Steps, MkcertTimeout, ct)
            .ConfigureAwait(false);
        if (exitCode != 0)
        {
            // mkcert's stderr holds paths and reasons, never key material, so it is safe to show.
            throw new CertificateNotFoundException(
                $"mkcert ({mkcert}) failed with exit code {exitCode} while creating the listener certificate" +
                (errorText.Length > 0 ? $": {errorText}" : ".") + "\n" + files.Steps);
        }

        // A CA in mkcert's folder does not mean a trusted one: mkcert makes it with its first leaf, and -uninstall leaves
        // it. mkcert notes it on stderr as it makes the leaf; a browser that does not trust the CA stalls every login on
        // its certificate warning, with nothing in the app's logs to say why.
        var untrusted = errorText.Split('\n', StringSplitOptions.TrimEntries)
            .Where(line => line.Contains("is not installed in the", StringComparison.Ordinal)).ToList();
        if (untrusted.Count > 0)
            logger?.LogWarning(
                "mkcert made the listener certificate '{CertificatePath}', but its CA is not trusted everywhere ({MkcertNote}): " +
                "a browser that does not trust it refuses the login page. Run 'mkcert -install' once",
                files.CertPath, string.Join(" ", untrusted));
    }

    /// <summary>Runs mkcert to its end, or stops it after <paramref name="timeout"/>; its output, trimmed stderr and exit code.</summary>
    /// <exception cref="CertificateNotFoundException">mkcert could not be started, or did not finish within <paramref name="timeout"/>; the message ends with <paramref name="instructions"/>.</exception>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string mkcert, IEnumerable<string> arguments, string instructions, TimeSpan timeout, CancellationToken ct)
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
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
        var stderr = process.StandardError.ReadToEndAsync(limit.Token);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            // Inside the limit too: a child mkcert left behind may hold the pipes open after mkcert itself exited.
            return (process.ExitCode, await stdout.ConfigureAwait(false), (await stderr.ConfigureAwait(false)).Trim());
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
            if (ct.IsCancellationRequested) throw;
            // A failure like any other mkcert failure, so the caller's cleanup runs and the folder's lock is released.
            throw new CertificateNotFoundException(
                $"mkcert ({mkcert}) did not finish within {timeout.TotalSeconds:0} s and was stopped; a trust-store tool it runs " +
                "(certutil, keytool) may be waiting for input. Run the steps below by hand to see where it stops:\n" + instructions);
        }
    }

    private static CertificateNotFoundException NotFound(Files files, string why) =>
        new($"No listener certificate was found in '{files.Folder}' (expected '{files.CertPath}' and '{files.KeyPath}'), and " +
            $"it could not be created: {why}. To create it:\n{files.Steps}\n" +
            "Or set o8.certificates.folder to where your certificate lives, or o8.listener.scheme = http for plain loopback.");
}
