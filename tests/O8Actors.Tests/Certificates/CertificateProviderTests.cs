using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using O8Actors.Certificates;
using O8Actors.Configuration;
using O8Actors.Tests.Security;

namespace O8Actors.Tests.Certificates;

public sealed class CertificateProviderTests : IClassFixture<MkcertFolderFixture>, IDisposable
{
    private readonly MkcertFolderFixture _mkcert;
    private readonly string _empty = Path.Combine(Path.GetTempPath(), "o8-certs-" + Guid.NewGuid().ToString("N"));

    public CertificateProviderTests(MkcertFolderFixture mkcert) => _mkcert = mkcert;

    [Fact]
    public async Task A_certificate_given_in_options_is_returned_as_is()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var given = new CertificateRequest("CN=given", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));

        var found = await CertificateProvider.LoadOrCreateAsync(
            new CertificateOptions { Certificate = given, Folder = _empty, AutoCreate = false }, CancellationToken.None);

        Assert.Same(given, found);
        Assert.False(Directory.Exists(_empty));
    }

    [Fact]
    public async Task Loads_the_mkcert_PEM_files_with_a_usable_private_key()
    {
        using var certificate = await CertificateProvider.LoadOrCreateAsync(_mkcert.Options, CancellationToken.None);

        Assert.True(certificate.HasPrivateKey);
        using var key = certificate.GetECDsaPrivateKey();
        Assert.NotNull(key);
        // The PKCS#12 round trip must leave a key that can actually sign (what the TLS handshake does).
        byte[] data = [1, 2, 3];
        var signature = key.SignData(data, HashAlgorithmName.SHA256);
        using var publicKey = certificate.GetECDsaPublicKey()!;
        Assert.True(publicKey.VerifyData(data, signature, HashAlgorithmName.SHA256));
    }

    [Fact]
    public async Task Missing_files_with_auto_create_off_name_the_paths_and_the_mkcert_commands()
    {
        var options = new CertificateOptions { Folder = _empty, AutoCreate = false };

        var error = await Assert.ThrowsAsync<CertificateNotFoundException>(
            () => CertificateProvider.LoadOrCreateAsync(options, CancellationToken.None));

        AssertInstructions(error.Message);
        Assert.Contains("auto-create", error.Message);
        Assert.False(Directory.Exists(_empty));
    }

    [Fact]
    public async Task Missing_files_without_mkcert_on_PATH_name_the_paths_and_the_mkcert_commands()
    {
        var provider = new CertificateProvider(_ => null);
        var options = new CertificateOptions { Folder = _empty, AutoCreate = true };

        var error = await Assert.ThrowsAsync<CertificateNotFoundException>(() => provider.GetAsync(options, CancellationToken.None));

        AssertInstructions(error.Message);
        Assert.Contains("mkcert is not on PATH", error.Message);
    }

    [Fact]
    public async Task Auto_create_runs_mkcert_and_makes_an_ECDSA_P256_certificate_for_every_loopback_name()
    {
        var options = new CertificateOptions { Folder = _empty, AutoCreate = true };

        using var certificate = await CertificateProvider.LoadOrCreateAsync(options, CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(_empty, "localhost.pem")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_empty));
        Assert.True(File.Exists(Path.Combine(_empty, "localhost-key.pem")));
        using var key = certificate.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
        Assert.Null(certificate.GetRSAPublicKey());

        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("localhost", san.EnumerateDnsNames());
        var addresses = san.EnumerateIPAddresses().ToList();
        Assert.Contains(IPAddress.Loopback, addresses);
        Assert.Contains(IPAddress.IPv6Loopback, addresses);

        // A second call loads the same files instead of creating new ones.
        using var again = await CertificateProvider.LoadOrCreateAsync(options, CancellationToken.None);
        Assert.Equal(certificate.Thumbprint, again.Thumbprint);
    }

    [Fact]
    public async Task A_failing_mkcert_gives_its_exit_code_and_stderr()
    {
        if (OperatingSystem.IsWindows()) return; // The fake mkcert is a shell script.
        // It fails the way a broken mkcert does.
        var fake = MkcertStandIns.Fake(_empty, "echo 'ERROR: signing failed' >&2\nexit 3");
        var provider = new CertificateProvider(_ => fake);
        var options = new CertificateOptions { Folder = Path.Combine(_empty, "certs"), AutoCreate = true };

        var error = await Assert.ThrowsAsync<CertificateNotFoundException>(() => provider.GetAsync(options, CancellationToken.None));

        Assert.Contains("exit code 3", error.Message);
        Assert.Contains("ERROR: signing failed", error.Message);
        Assert.Contains("mkcert -install", error.Message);
    }

    [Fact]
    public async Task Auto_create_never_makes_a_CA_when_mkcert_has_none()
    {
        if (OperatingSystem.IsWindows()) return; // The wrapper is a shell script.
        // The real mkcert, pointed at an empty CA root: asked for a leaf, it would make and keep a brand-new CA there.
        var (wrapper, emptyCaRoot) = MkcertStandIns.RealWithOwnCaRoot(_empty, "no-ca-yet");
        var options = new CertificateOptions { Folder = Path.Combine(_empty, "certs"), AutoCreate = true };

        var error = await Assert.ThrowsAsync<CertificateNotFoundException>(
            () => new CertificateProvider(_ => wrapper).GetAsync(options, CancellationToken.None));

        Assert.Contains("never creates a CA", error.Message);
        Assert.Contains(emptyCaRoot, error.Message);
        Assert.Contains("mkcert -install", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(emptyCaRoot));
        Assert.False(File.Exists(Path.Combine(options.Folder, "localhost.pem")));
    }

    [Fact]
    public async Task A_CA_root_without_its_key_says_so_and_points_at_the_CA_folder_rather_than_at_mkcert_install()
    {
        if (OperatingSystem.IsWindows()) return; // The fake mkcert is a shell script.
        // A CA root copied from another machine without its key: 'mkcert -install' trusts it and makes no key.
        var fake = MkcertStandIns.Fake(_empty, "echo 'must not be asked for a leaf' >&2\nexit 9");
        var caRoot = Path.Combine(_empty, "ca");
        File.Delete(Path.Combine(caRoot, "rootCA-key.pem"));
        var options = new CertificateOptions { Folder = Path.Combine(_empty, "certs"), AutoCreate = true };

        var error = await Assert.ThrowsAsync<CertificateNotFoundException>(
            () => new CertificateProvider(_ => fake).GetAsync(options, CancellationToken.None));

        Assert.Contains($"mkcert's CA in '{caRoot}' has its certificate (rootCA.pem) but not its key (rootCA-key.pem)", error.Message);
        Assert.Contains($"copy rootCA-key.pem into '{caRoot}'", error.Message);
        Assert.DoesNotContain("run 'mkcert -install' once", error.Message);
        Assert.DoesNotContain("must not be asked", error.Message);
    }

    [Fact]
    public async Task A_CA_that_mkcert_says_is_not_installed_gets_a_warning_naming_mkcert_install()
    {
        if (OperatingSystem.IsWindows()) return; // The wrapper is a shell script.
        var (wrapper, caRoot) = MkcertStandIns.RealWithOwnCaRoot(_empty, "ca-never-installed");
        // What a first 'mkcert localhost' leaves: a CA in CAROOT that no trust store holds (never -install, never -uninstall here).
        await RunToEndAsync(wrapper, "-cert-file", Path.Combine(_empty, "throwaway.pem"), "-key-file", Path.Combine(_empty, "throwaway-key.pem"), "localhost");
        Assert.True(File.Exists(Path.Combine(caRoot, "rootCA.pem")));
        var lines = new ConcurrentQueue<string>();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new CapturedLogs.Provider(lines)));
        var options = new CertificateOptions { Folder = Path.Combine(_empty, "certs"), AutoCreate = true };

        using var certificate = await new CertificateProvider(_ => wrapper).GetAsync(
            options, "localhost", loggerFactory.CreateLogger<CertificateProviderTests>(), CancellationToken.None);

        var warning = Assert.Single(lines, l => l.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Contains("'mkcert -install'", warning);
        Assert.Contains("is not installed in the", warning);
        Assert.Contains(Path.Combine(options.Folder, "localhost.pem"), warning);
    }

    [Fact]
    public async Task A_lock_file_the_user_may_not_create_is_reported_as_a_permission_problem_at_once()
    {
        if (OperatingSystem.IsWindows()) return; // The fake mkcert is a shell script, the folder's mode a Unix one.
        var fake = MkcertStandIns.Fake(_empty, "exit 0");
        var certs = Path.Combine(_empty, "certs");
        Directory.CreateDirectory(certs);
        var lockPath = Path.Combine(certs, "localhost.pem.lock");
        File.SetUnixFileMode(certs, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        // Root (a CI container) writes in a read-only folder all the same; a folder where the lock file goes is refused
        // with the same UnauthorizedAccessException, so the report is checked either way.
        if (CanCreateFileIn(certs)) Directory.CreateDirectory(lockPath);
        var provider = new CertificateProvider(_ => fake);
        var options = new CertificateOptions { Folder = certs, AutoCreate = true };
        try
        {
            var waited = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<ListenerStartException>(() => provider.GetAsync(options, CancellationToken.None));

            Assert.Contains(lockPath, error.Message);
            Assert.Contains($"the folder '{certs}' is not writable by this user", error.Message);
            Assert.DoesNotContain("another process", error.Message);
            Assert.IsType<UnauthorizedAccessException>(error.InnerException);
            Assert.True(waited.Elapsed < CertificateProvider.LockWait, "a refusal is reported at once, not after the lock wait");
        }
        finally
        {
            File.SetUnixFileMode(certs, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task Unreadable_files_give_a_listener_start_error_naming_them()
    {
        Directory.CreateDirectory(_empty);
        await File.WriteAllTextAsync(Path.Combine(_empty, "localhost.pem"), "not a certificate");
        await File.WriteAllTextAsync(Path.Combine(_empty, "localhost-key.pem"), "not a key");

        var error = await Assert.ThrowsAsync<ListenerStartException>(() => CertificateProvider.LoadOrCreateAsync(
            new CertificateOptions { Folder = _empty, AutoCreate = true }, CancellationToken.None));

        Assert.Contains(Path.Combine(_empty, "localhost.pem"), error.Message);
        Assert.Contains("mkcert -ecdsa", error.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_empty)) Directory.Delete(_empty, recursive: true);
    }

    private static bool CanCreateFileIn(string folder)
    {
        var probe = Path.Combine(folder, "probe");
        try
        {
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Runs <paramref name="program"/> to its end, failing on a non-zero exit code.</summary>
    internal static async Task RunToEndAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {await stderr}");
    }

    private void AssertInstructions(string message)
    {
        var cert = Path.Combine(_empty, "localhost.pem");
        var key = Path.Combine(_empty, "localhost-key.pem");
        Assert.Contains(_empty, message);
        Assert.Contains("mkcert -install", message);
        // mkcert creates no folder: the folder (missing here) is made first, quoted as the paths are.
        Assert.Contains($"mkdir -p \"{_empty}\" && mkcert -ecdsa -cert-file \"{cert}\" -key-file \"{key}\" localhost 127.0.0.1 ::1", message);
        // certutil only when the database is missing: on an existing one it prompts, and without a terminal asks forever.
        Assert.Contains("[ -f \"$HOME/.pki/nssdb/cert9.db\" ] || certutil -d \"sql:$HOME/.pki/nssdb\" -N --empty-password", message);
        Assert.DoesNotContain("&& certutil", message);
    }
}
