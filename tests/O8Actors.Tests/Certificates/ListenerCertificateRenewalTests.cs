using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using O8Actors.Callback;
using O8Actors.Certificates;
using O8Actors.Configuration;
using Xunit.Abstractions;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Certificates;

/// <summary>
/// A running listener (real Kestrel on loopback) keeps its certificate current: it takes a pair whose files were replaced,
/// remakes an mkcert certificate before it ends, and keeps serving what it has when the files on disk cannot be used.
/// Its periodic check runs on the TestScheduler; every handshake is a real one, whose certificate the test reads.
/// </summary>
public sealed class ListenerCertificateRenewalTests : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "::1"];

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "o8-renewal-" + Guid.NewGuid().ToString("N"));

    public ListenerCertificateRenewalTests(ITestOutputHelper output) : base(@"
        akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""
        akka.loglevel = DEBUG", output: output)
    {
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private string CertsFolder => Path.Combine(_dir, "certs");

    private string CertPath => Path.Combine(CertsFolder, "localhost.pem");

    private string KeyPath => Path.Combine(CertsFolder, "localhost-key.pem");

    [Fact]
    public async Task A_certificate_whose_files_were_replaced_is_served_to_new_connections_while_an_open_one_keeps_working()
    {
        var now = DateTimeOffset.UtcNow;
        var first = WritePair(now.AddDays(-1), now.AddDays(30));
        var logs = ListenerLogs();
        var port = await StartAsync(autoCreate: false);
        var (open, served) = await ConnectAsync(port);
        await using var _ = open;
        Assert.Equal(first, served);

        // What a user does who re-runs mkcert, or whose deployment drops in a new pair.
        var second = WritePair(now.AddDays(-1), now.AddDays(400));
        Scheduler.Advance(CertificateWatch.Interval);

        var (line, warnings) = await NextCheckAsync(logs);
        Assert.Empty(warnings);
        Assert.Contains($"now serves the certificate CN=o8 test (thumbprint {second}, valid until ", line);
        Assert.Equal(second, await ServedThumbprintAsync(port));
        // The connection opened before the swap still carries requests, with the certificate it began with.
        Assert.StartsWith("HTTP/1.1 ", await GetOverAsync(open));
        Assert.Equal(first, open.RemoteCertificate!.GetCertHashString());
    }

    [Fact]
    public async Task An_mkcert_certificate_near_its_end_is_remade_and_new_connections_get_the_new_one_without_a_restart()
    {
        if (OperatingSystem.IsWindows()) return; // The mkcert wrapper is a shell script.
        var (mkcert, ca) = await MkcertWithItsOwnCaAsync();
        using var _ = ca;
        var now = DateTimeOffset.UtcNow;
        // Issued by mkcert's CA, two days from its end: inside the window the start only warns about.
        var ending = WritePair(now.AddDays(-800), now.AddDays(2), ca);
        var logs = ListenerLogs();
        var port = await StartAsync(autoCreate: true, new CertificateProvider(_ => mkcert));
        Assert.Equal(ending, await ServedThumbprintAsync(port));

        Scheduler.Advance(CertificateWatch.Interval);

        var (line, warnings) = await NextCheckAsync(logs);
        Assert.Empty(warnings);
        Assert.Contains("mkcert remade it before the previous one ended", line);
        using var onDisk = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(CertPath));
        Assert.NotEqual(ending, onDisk.Thumbprint);
        Assert.True(onDisk.NotAfter.ToUniversalTime() > now.UtcDateTime.AddDays(300), $"the new certificate ends {onDisk.NotAfter:u}");
        Assert.Equal(onDisk.Thumbprint, await ServedThumbprintAsync(port));
    }

    [Fact]
    public async Task A_check_whose_mkcert_hangs_is_cancelled_after_its_timeout_and_a_later_tick_checks_again()
    {
        if (OperatingSystem.IsWindows()) return; // The mkcert wrapper is a shell script.
        var (hanging, hung, ending, ca) = await EndingPairWithHangingMkcertAsync();
        using var _ = ca;
        var logs = ListenerLogs();
        var port = await StartAsync(autoCreate: true, new CertificateProvider(_ => hanging));

        // The first renewal's mkcert never answers. Before, every later tick found that check still running and started
        // none, for the listener's life, and nothing said so.
        Scheduler.Advance(CertificateWatch.Interval);
        await AwaitConditionAsync(() => Task.FromResult(Directory.Exists(hung)), Wait, Polling.Interval);
        // The check has begun; its timeout's timer is set as the listener ends the tick that began it, before it answers this.
        await _listener!.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait);
        Scheduler.Advance(CertificateWatch.CheckTimeout);
        Scheduler.Advance(CertificateWatch.Interval);

        var (line, warnings) = await NextCheckAsync(logs);
        Assert.Contains(warnings, w => w.Contains("certificate check did not finish within 120 s", StringComparison.Ordinal));
        Assert.Contains("mkcert remade it before the previous one ended", line);
        using var onDisk = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(CertPath));
        Assert.NotEqual(ending, onDisk.Thumbprint);
        Assert.Equal(onDisk.Thumbprint, await ServedThumbprintAsync(port));
    }

    [Fact]
    public async Task A_certificate_from_another_CA_near_its_end_is_not_remade_and_is_reported_once()
    {
        if (OperatingSystem.IsWindows()) return; // The mkcert wrapper is a shell script.
        var (mkcert, ca) = await MkcertWithItsOwnCaAsync();
        ca.Dispose();
        var now = DateTimeOffset.UtcNow;
        // The user's own (self-signed here): mkcert could make a certificate, but not the one the user chose.
        var users = WritePair(now.AddDays(-300), now.AddDays(2));
        var logs = ListenerLogs();
        var port = await StartAsync(autoCreate: true, new CertificateProvider(_ => mkcert));

        Scheduler.Advance(CertificateWatch.Interval);
        var (first, reported) = await NextCheckAsync(logs);
        Assert.Contains("renewal tried: mkcert's CA", first);
        var warning = Assert.Single(reported);
        Assert.Contains($"(thumbprint {users}) expires on ", warning);
        Assert.Contains("did not issue it", warning);
        Assert.DoesNotContain("PRIVATE KEY", warning);

        // Once the retry time has come, renewal is tried again, and not reported a second time.
        Scheduler.Advance(CertificateWatch.RenewalRetry + CertificateWatch.Interval);
        var (second, again) = await NextCheckAsync(logs);
        Assert.Contains("renewal tried: mkcert's CA", second);
        Assert.Empty(again);

        Assert.Equal(users, await ServedThumbprintAsync(port));
        using var onDisk = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(CertPath));
        Assert.Equal(users, onDisk.Thumbprint);
    }

    [Fact]
    public async Task A_replacement_pair_that_cannot_be_used_leaves_the_served_certificate_and_is_reported_once_until_the_files_change()
    {
        var now = DateTimeOffset.UtcNow;
        var first = WritePair(now.AddDays(-1), now.AddDays(30));
        var logs = ListenerLogs();
        var port = await StartAsync(autoCreate: false);

        WritePair(now.AddDays(-30), now.AddDays(-2));
        Scheduler.Advance(CertificateWatch.Interval);
        var (refused, reported) = await NextCheckAsync(logs);
        Assert.Contains("files changed and refused", refused);
        var warning = Assert.Single(reported);
        Assert.Contains($"changed but cannot be used: it expired on ", warning);
        Assert.Contains($"keeps serving {first}", warning);
        Assert.DoesNotContain("PRIVATE KEY", warning);
        Assert.Equal(first, await ServedThumbprintAsync(port));

        // A check of the same files reports nothing more.
        Scheduler.Advance(CertificateWatch.Interval);
        var (unchanged, none) = await NextCheckAsync(logs);
        Assert.Contains("files unchanged", unchanged);
        Assert.Empty(none);

        var fixedUp = WritePair(now.AddDays(-1), now.AddDays(60));
        Scheduler.Advance(CertificateWatch.Interval);
        var (taken, _) = await NextCheckAsync(logs);
        Assert.Contains($"thumbprint {fixedUp}", taken);
        Assert.Equal(fixedUp, await ServedThumbprintAsync(port));
    }

    public new void Dispose()
    {
        base.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Writes the listener's pair: a certificate for every loopback name, signed by <paramref name="issuer"/> (null: self-signed); its thumbprint.</summary>
    private string WritePair(DateTimeOffset notBefore, DateTimeOffset notAfter, X509Certificate2? issuer = null) =>
        UnusableCertificateTests.WritePair(CertPath, KeyPath, notBefore, notAfter, issuer, LoopbackNames);

    /// <summary>A probe that gets every log event of the system (the listener's among them), muted by no filter.</summary>
    private TestProbe ListenerLogs()
    {
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(LogEvent));
        return logs;
    }

    /// <summary>The line that ends the listener's next certificate check (its Debug summary, or the Info of a new certificate) and the warnings before it.</summary>
    private static async Task<(string Line, List<string> Warnings)> NextCheckAsync(TestProbe logs)
    {
        var warnings = new List<string>();
        while (true)
        {
            var logged = await logs.ExpectMsgAsync<LogEvent>(Wait);
            var text = logged.Message?.ToString() ?? "";
            if (logged is Warning) warnings.Add(text);
            if (text.StartsWith("Listener certificate checked", StringComparison.Ordinal) ||
                text.StartsWith("The callback listener now serves", StringComparison.Ordinal))
                return (text, warnings);
        }
    }

    /// <summary>
    /// A pair on disk that ends in two days (its thumbprint returned), signed by a CA of its own, and an mkcert stand-in
    /// that hangs at the renewal that pair calls for, making the folder <c>Hung</c> when it does.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private async Task<(string Hanging, string Hung, string Ending, X509Certificate2 Ca)> EndingPairWithHangingMkcertAsync()
    {
        var (mkcert, ca) = await MkcertWithItsOwnCaAsync();
        var hung = Path.Combine(_dir, "hung");
        var hanging = MkcertStandIns.HangsAtFirstCertificate(_dir, mkcert, hung);
        var now = DateTimeOffset.UtcNow;
        return (hanging, hung, WritePair(now.AddDays(-800), now.AddDays(2), ca), ca);
    }

    /// <summary>The real mkcert with a CA of its own (never the machine's), made here; that CA with its key, to issue test certificates.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private async Task<(string Mkcert, X509Certificate2 Ca)> MkcertWithItsOwnCaAsync()
    {
        var (mkcert, caRoot) = MkcertStandIns.RealWithOwnCaRoot(_dir, "ca");
        // mkcert makes its CA with its first certificate; that certificate is thrown away.
        await CertificateProviderTests.RunToEndAsync(mkcert, "-cert-file", Path.Combine(_dir, "throwaway.pem"),
            "-key-file", Path.Combine(_dir, "throwaway-key.pem"), "localhost");
        return (mkcert, X509Certificate2.CreateFromPemFile(Path.Combine(caRoot, "rootCA.pem"), Path.Combine(caRoot, "rootCA-key.pem")));
    }

    /// <summary>
    /// A while-needed listener releases its port while a renewal's mkcert hangs: the release cancelled the check's
    /// timeout but not the check, which ran on (mkcert with it) across the release, up to mkcert's own end.
    /// </summary>
    [Fact]
    public async Task A_check_running_when_a_while_needed_listener_releases_its_port_is_cancelled_with_the_release()
    {
        if (OperatingSystem.IsWindows()) return; // The mkcert wrapper is a shell script.
        var (hanging, hung, _, ca) = await EndingPairWithHangingMkcertAsync();
        using var _ = ca;
        var options = new O8Options
        {
            Listener = new ListenerOptions { Scheme = "https", Host = "localhost", Port = 0, Path = "/", BindIPv6 = true, Start = ListenerStart.WhileNeeded },
            Certificates = new CertificateOptions { Folder = CertsFolder, AutoCreate = true },
            Login = new LoginOptions { ExchangeTimeout = TimeSpan.FromSeconds(10) },
        };
        var listener = Sys.ActorOf(CallbackServerActor.Props(options, certificates: new CertificateProvider(_ => hanging)));
        var flow = CreateTestProbe();
        flow.Send(listener, new RegisterState("s-1", "login-1", WatchRegistrant: false));
        await flow.ExpectMsgAsync<StateRegistered>(Wait);

        // The renewal's mkcert hangs.
        Scheduler.Advance(CertificateWatch.Interval);
        await AwaitConditionAsync(() => Task.FromResult(Directory.Exists(hung)), Wait, Polling.Interval);
        Assert.True(MkcertRunning(hanging));

        // The login ends; the port is released after the browser's wait (exchange timeout 10 s: 15 s).
        listener.Tell(new UnregisterState("s-1", "login-1"));
        Assert.Equal(0, (await listener.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait)).RegisteredStates);
        Scheduler.Advance(TimeSpan.FromSeconds(15));
        await AwaitAssertAsync(async () => Assert.False((await listener.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait)).Bound), Wait);

        await AwaitConditionAsync(() => Task.FromResult(!MkcertRunning(hanging)), Wait, Polling.Interval);
    }

    /// <summary>Whether a process runs the stand-in <paramref name="script"/> (Linux: the command lines under /proc).</summary>
    private static bool MkcertRunning(string script) =>
        Directory.EnumerateDirectories("/proc").Any(process =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(process, "cmdline")).Contains(script, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false; // the process ended while it was read
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        });

    /// <summary>The listener <see cref="StartAsync"/> started last.</summary>
    private IActorRef? _listener;

    private async Task<int> StartAsync(bool autoCreate, CertificateProvider? provider = null)
    {
        var options = new O8Options
        {
            Listener = new ListenerOptions { Scheme = "https", Host = "localhost", Port = 0, Path = "/", BindIPv6 = true },
            Certificates = new CertificateOptions { Folder = CertsFolder, AutoCreate = autoCreate },
        };
        var listener = Sys.ActorOf(CallbackServerActor.Props(options, certificates: provider));
        _listener = listener;
        var status = await listener.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait);
        Assert.True(status.Bound, $"listener did not bind: {status.Failure}");
        return status.RedirectUri!.Port;
    }

    /// <summary>A new TLS connection to the listener (any certificate accepted) and the thumbprint of the certificate it was served.</summary>
    private static async Task<(SslStream Stream, string Thumbprint)> ConnectAsync(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                // Which certificate is served is what is checked here, not whether this machine trusts its CA.
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            });
            return (tls, tls.RemoteCertificate!.GetCertHashString());
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    private static async Task<string> ServedThumbprintAsync(int port)
    {
        var (tls, thumbprint) = await ConnectAsync(port);
        await tls.DisposeAsync();
        return thumbprint;
    }

    /// <summary>Sends a request over <paramref name="tls"/>; the response's status line.</summary>
    private static async Task<string> GetOverAsync(SslStream tls)
    {
        await tls.WriteAsync(Encoding.ASCII.GetBytes("GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(tls, Encoding.ASCII, leaveOpen: true);
        return await reader.ReadLineAsync() ?? "";
    }
}
