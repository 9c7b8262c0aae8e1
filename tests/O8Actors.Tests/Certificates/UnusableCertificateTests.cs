using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using O8Actors.Callback;
using O8Actors.Certificates;
using O8Actors.Configuration;
using O8Actors.Tests.Security;

namespace O8Actors.Tests.Certificates;

/// <summary>
/// Certificate files that exist but that a browser would refuse (expired, not yet valid, not naming the listener's host,
/// another certificate's key), and first runs that race to create them.
/// </summary>
public sealed class UnusableCertificateTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "o8-certs-" + Guid.NewGuid().ToString("N"));

    private string CertsFolder => Path.Combine(_dir, "certs");

    private string CertPath => Path.Combine(CertsFolder, "localhost.pem");

    private string KeyPath => Path.Combine(CertsFolder, "localhost-key.pem");

    [Theory]
    [InlineData("expired")]
    [InlineData("not yet valid")]
    public async Task A_certificate_out_of_its_validity_fails_the_listener_start_with_its_date_and_the_mkcert_commands(string which)
    {
        var now = DateTimeOffset.UtcNow;
        var (notBefore, notAfter) = which == "expired" ? (now.AddDays(-30), now.AddDays(-2)) : (now.AddDays(2), now.AddDays(30));
        WritePair(CertPath, KeyPath, notBefore, notAfter, "localhost");

        var error = await Assert.ThrowsAsync<ListenerStartException>(() => StartHttpsAsync(autoCreate: false));

        var date = (which == "expired" ? notAfter : notBefore).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(which == "expired" ? $"expired on {date}" : $"not valid before {date}", error.Message);
        Assert.Contains(CertPath, error.Message);
        Assert.Contains("auto-create = off", error.Message);
        Assert.Contains($"mkcert -ecdsa -cert-file \"{CertPath}\" -key-file \"{KeyPath}\" localhost 127.0.0.1 ::1", error.Message);
        Assert.Contains("mkcert -install", error.Message);
        Assert.DoesNotContain("PRIVATE KEY", error.Message);
    }

    [Fact]
    public async Task A_certificate_that_does_not_name_the_listener_host_fails_the_start_naming_the_host()
    {
        var now = DateTimeOffset.UtcNow;
        WritePair(CertPath, KeyPath, now.AddDays(-1), now.AddDays(300), "localhost");

        var error = await Assert.ThrowsAsync<ListenerStartException>(() => StartHttpsAsync(autoCreate: false, host: "127.0.0.1"));

        Assert.Contains("does not name 127.0.0.1", error.Message);
        Assert.Contains("it names localhost", error.Message);
        Assert.Contains("mkcert -ecdsa", error.Message);
    }

    [Fact]
    public async Task A_certificate_about_to_expire_is_used_with_a_warning_giving_its_date()
    {
        var now = DateTimeOffset.UtcNow;
        WritePair(CertPath, KeyPath, now.AddDays(-300), now.AddDays(2), "localhost", "127.0.0.1", "::1");
        var lines = new ConcurrentQueue<string>();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new CapturedLogs.Provider(lines)));

        var started = await StartHttpsAsync(autoCreate: false, loggerFactory: loggerFactory);
        await CallbackListenerHost.StopAsync(started.App);
        started.Certificate?.Dispose();

        var warning = Assert.Single(lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("expires on"));
        Assert.Contains(CertPath, warning);
        Assert.Contains("mkcert -ecdsa", warning);
        Assert.DoesNotContain("PRIVATE KEY", warning);
    }

    [Fact]
    public async Task An_expired_certificate_is_remade_with_mkcert_when_auto_create_may_create_it()
    {
        if (OperatingSystem.IsWindows()) return; // The fake mkcert is a shell script.
        var now = DateTimeOffset.UtcNow;
        WritePair(CertPath, KeyPath, now.AddDays(-30), now.AddDays(-2), "localhost", "127.0.0.1", "::1");
        var (fresh, certificate) = await RemadeByAFakeMkcertAsync(now);
        using var _ = certificate;

        Assert.Equal(fresh, certificate.Thumbprint);
        Assert.True(certificate.HasPrivateKey);
        Assert.Empty(Directory.GetFiles(CertsFolder, "*.tmp"));
    }

    /// <summary>Loads the pair with auto-create on and a fake mkcert that writes a fresh pair; returns that pair's thumbprint and what was loaded.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private async Task<(string Fresh, X509Certificate2 Loaded)> RemadeByAFakeMkcertAsync(DateTimeOffset now)
    {
        var fresh = WritePair(Path.Combine(_dir, "fresh.pem"), Path.Combine(_dir, "fresh-key.pem"), now.AddMinutes(-1), now.AddDays(800), "localhost", "127.0.0.1", "::1");
        var fake = MkcertStandIns.Fake(_dir, $"cat '{_dir}/fresh.pem' > \"$3\"; cat '{_dir}/fresh-key.pem' > \"$5\"");
        var provider = new CertificateProvider(_ => fake);
        return (fresh, await provider.GetAsync(new CertificateOptions { Folder = CertsFolder, AutoCreate = true }, CancellationToken.None));
    }

    [Fact]
    public async Task A_pair_whose_key_belongs_to_another_certificate_is_remade_with_mkcert_when_auto_create_may_create_it()
    {
        if (OperatingSystem.IsWindows()) return; // The fake mkcert is a shell script.
        var now = DateTimeOffset.UtcNow;
        WritePair(CertPath, Path.Combine(_dir, "unused-key.pem"), now.AddDays(-1), now.AddDays(800), "localhost", "127.0.0.1", "::1");
        WritePair(Path.Combine(_dir, "other.pem"), KeyPath, now.AddDays(-1), now.AddDays(800), "localhost", "127.0.0.1", "::1");
        var (fresh, certificate) = await RemadeByAFakeMkcertAsync(now);
        using var _ = certificate;

        Assert.Equal(fresh, certificate.Thumbprint);
        Assert.True(certificate.HasPrivateKey);
    }

    [Fact]
    public async Task First_runs_racing_to_create_the_files_end_with_one_matching_pair_that_both_use()
    {
        if (OperatingSystem.IsWindows()) return; // The fake mkcert is a shell script.
        var now = DateTimeOffset.UtcNow;
        WritePair(Path.Combine(_dir, "cert1.pem"), Path.Combine(_dir, "key1.pem"), now.AddMinutes(-1), now.AddDays(800), "localhost", "127.0.0.1", "::1");
        WritePair(Path.Combine(_dir, "cert2.pem"), Path.Combine(_dir, "key2.pem"), now.AddMinutes(-1), now.AddDays(800), "localhost", "127.0.0.1", "::1");
        // The first run writes its certificate, then its key only after a second run (if one starts within 3 s) has
        // written both of its own: the interleaving that left run 2's certificate with run 1's key.
        var fake = MkcertStandIns.Fake(_dir, $$"""
            d='{{_dir}}'
            if mkdir "$d/run1" 2>/dev/null; then
              cat "$d/cert1.pem" > "$3"
              i=0; while [ ! -e "$d/run2-done" ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i+1)); done
              cat "$d/key1.pem" > "$5"
            else
              cat "$d/cert2.pem" > "$3"; cat "$d/key2.pem" > "$5"; touch "$d/run2-done"
            fi
            """);
        var options = new CertificateOptions { Folder = CertsFolder, AutoCreate = true };

        var both = await Task.WhenAll(
            Task.Run(() => new CertificateProvider(_ => fake).GetAsync(options, CancellationToken.None)),
            Task.Run(() => new CertificateProvider(_ => fake).GetAsync(options, CancellationToken.None)));
        using var first = both[0];
        using var second = both[1];
        using var later = await new CertificateProvider(_ => null).GetAsync(new CertificateOptions { Folder = CertsFolder, AutoCreate = false }, CancellationToken.None);

        Assert.Equal(first.Thumbprint, second.Thumbprint);
        Assert.Equal(first.Thumbprint, later.Thumbprint);
        Assert.True(later.HasPrivateKey);
        Assert.Empty(Directory.GetFiles(CertsFolder, "*.tmp"));
    }

    [Fact]
    public async Task A_start_that_waits_more_than_thirty_seconds_for_another_process_making_the_certificate_still_starts()
    {
        // mkcert on PATH with its CA (as CI installs it), else this start would fail at once for want of a creator.
        Assert.NotNull(ExecutableLocator.FindOnPath("mkcert"));
        Directory.CreateDirectory(CertsFolder);
        // Another process is making the certificate and holds the folder's lock file (flock) for 35 s: longer than the
        // 30 s control timeout a start's first status question had, shorter than the lock's own one-minute wait. The
        // delay is the scenario, real time on a real lock, not a wait for this process's work.
        var lockFile = new FileStream(CertPath + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var start = OAuthLogins.StartAsync(setup =>
        {
            setup.SystemName = "o8-cert-lock-" + Guid.NewGuid().ToString("N")[..8];
            setup.Options.Listener.Scheme = "https";
            setup.Options.Listener.Port = 0;
            setup.Options.Certificates.Folder = CertsFolder;
            setup.Options.Certificates.AutoCreate = true;
        });
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(35));
            Assert.False(start.IsCompleted, start.IsFaulted ? start.Exception!.InnerException!.GetType().Name : "started while the lock was held");
            // The other process leaves its pair and exits: the waiting start takes that pair.
            var thumbprint = WritePair(CertPath, KeyPath, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(30), "localhost", "127.0.0.1", "::1");
            await lockFile.DisposeAsync();

            await using var logins = await start.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Uri.UriSchemeHttps, (await logins.GetRedirectUriAsync()).Scheme);
            using var served = X509CertificateLoader.LoadCertificateFromFile(CertPath);
            Assert.Equal(thumbprint, served.Thumbprint);
        }
        finally
        {
            // On a failed assertion the start may still be under way or have started: its listener must not outlive the test.
            await lockFile.DisposeAsync();
            try
            {
                await (await start.WaitAsync(TimeSpan.FromSeconds(90))).DisposeAsync(); // a second dispose does nothing
            }
            catch (Exception e) when (e is ListenerStartException or TimeoutException or Akka.Actor.AskTimeoutException)
            {
            }
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private async Task<ListenerStarted> StartHttpsAsync(bool autoCreate, string host = "localhost", ILoggerFactory? loggerFactory = null)
    {
        var options = O8Options.FromConfig();
        options.Listener.Scheme = "https";
        options.Listener.Host = host;
        options.Listener.Port = 0;
        options.Certificates.Folder = CertsFolder;
        options.Certificates.AutoCreate = autoCreate;
        return await CallbackListenerHost.StartAsync(options, _ => Task.CompletedTask, loggerFactory, CancellationToken.None);
    }

    /// <summary>A self-signed ECDSA certificate naming <paramref name="names"/>, written as PEM; its thumbprint.</summary>
    internal static string WritePair(string certPath, string keyPath, DateTimeOffset notBefore, DateTimeOffset notAfter, params string[] names) =>
        WritePair(certPath, keyPath, notBefore, notAfter, issuer: null, names);

    /// <summary>An ECDSA certificate naming <paramref name="names"/>, signed by <paramref name="issuer"/> (with its key; null: self-signed), written as PEM; its thumbprint.</summary>
    internal static string WritePair(string certPath, string keyPath, DateTimeOffset notBefore, DateTimeOffset notAfter,
        X509Certificate2? issuer, params string[] names)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(certPath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(keyPath)!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=o8 test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address)) san.AddIpAddress(address);
            else san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build());
        using var certificate = issuer is null ? request.CreateSelfSigned(notBefore, notAfter) : Issue(request, issuer, notBefore, notAfter);
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return certificate.Thumbprint;
    }

    // mkcert's CA has an RSA key and the leaf an ECDSA one, which the issuer overload of Create does not mix.
    private static X509Certificate2 Issue(CertificateRequest request, X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var rsa = issuer.GetRSAPrivateKey();
        using var ecdsa = rsa is null ? issuer.GetECDsaPrivateKey() : null;
        var signer = rsa is not null
            ? X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1)
            : X509SignatureGenerator.CreateForECDsa(ecdsa ?? throw new ArgumentException("The issuer has no private key.", nameof(issuer)));
        return request.Create(issuer.SubjectName, signer, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));
    }
}
