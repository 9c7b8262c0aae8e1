using Akka.Actor;
using O8Actors.Callback;
using O8Actors.Certificates;
using O8Actors.Configuration;
using Xunit.Abstractions;

namespace O8Actors.Tests.Certificates;

/// <summary>
/// A listener start whose mkcert hangs (a trust-store tool waiting for input): the start fails after the provider's mkcert
/// limit, releases the certificate folder's lock, and an on-first-use listener binds on the next need. Real mkcert with
/// its own CA behind a wrapper that hangs once; real Kestrel on loopback.
/// </summary>
public sealed class HangingMkcertStartTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output), IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "o8-hang-" + Guid.NewGuid().ToString("N"))).FullName;

    [Fact]
    public async Task An_on_first_use_bind_whose_mkcert_hangs_fails_after_the_limit_frees_the_lock_and_the_next_bind_binds()
    {
        if (OperatingSystem.IsWindows()) return; // The mkcert wrapper is a shell script.
        var (mkcert, _) = MkcertStandIns.RealWithOwnCaRoot(_dir, "ca");
        // The CA the user made once (a first leaf makes it); the provider never makes one.
        await CertificateProviderTests.RunToEndAsync(mkcert, "-cert-file", Path.Combine(_dir, "t.pem"), "-key-file", Path.Combine(_dir, "t-key.pem"), "localhost");
        var hung = Path.Combine(_dir, "hung");
        var hanging = MkcertStandIns.HangsAtFirstCertificate(_dir, mkcert, hung);
        var certs = Path.Combine(_dir, "certs");
        var options = new O8Options
        {
            Listener = new ListenerOptions { Scheme = "https", Host = "localhost", Port = 0, Path = "/", Start = ListenerStart.OnFirstUse },
            Certificates = new CertificateOptions { Folder = certs, AutoCreate = true },
        };
        var provider = new CertificateProvider(_ => hanging) { MkcertTimeout = TimeSpan.FromSeconds(2) };
        var listener = Sys.ActorOf(CallbackServerActor.Props(options, certificates: provider));

        // Before, this bind never ended: the listener stayed Starting, stashing every later bind, for the process's life.
        var failed = await listener.Ask<ListenerStatus>(BindListener.Instance, Wait);

        Assert.True(Directory.Exists(hung), "the wrapper's hanging run was reached");
        Assert.False(failed.Bound);
        var error = Assert.IsType<CertificateNotFoundException>(failed.Failure);
        Assert.Contains($"mkcert ({hanging}) did not finish within 2 s", error.Message);
        Assert.Contains("mkcert -install", error.Message);
        // Another process sharing the folder can take its lock again, and no temporary file is left beside the pair.
        await using (new FileStream(Path.Combine(certs, "localhost.pem.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)) { }
        Assert.Empty(Directory.GetFiles(certs, "*.tmp"));

        var bound = await listener.Ask<ListenerStatus>(BindListener.Instance, Wait);

        Assert.True(bound.Bound, $"the next bind did not bind: {bound.Failure}");
        Assert.True(File.Exists(Path.Combine(certs, "localhost.pem")));
        await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);
    }

    public new void Dispose()
    {
        base.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { /* best effort */ }
    }
}
