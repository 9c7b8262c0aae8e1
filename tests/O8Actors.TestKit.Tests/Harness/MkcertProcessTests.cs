using System.Diagnostics;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// The harness's <c>mkcert -CAROOT</c> call, played by a shell script standing in for mkcert: a chatty standard error
/// does not stall it, and a caller's cancellation kills the process rather than leaving it running. POSIX shells only.
/// </summary>
public sealed class MkcertProcessTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("o8tk-mkcert-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task A_mkcert_that_writes_much_to_standard_error_is_still_read()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "POSIX shell");
        // 1 MiB of standard error: far more than a pipe holds, so an unread pipe blocks the script before it prints.
        var mkcert = Script("head -c 1048576 /dev/zero | tr '\\0' x >&2\necho /the/caroot\n");

        var output = await HarnessCertificate.RunAsync(mkcert, "-CAROOT", CancellationToken.None).WaitAsync(Wait);

        Assert.Equal("/the/caroot", output?.Trim());
    }

    [Fact]
    public async Task A_cancelled_call_kills_mkcert()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "POSIX shell");
        var fifo = Path.Combine(_folder.FullName, "pid");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) await mkfifo.WaitForExitAsync().WaitAsync(Wait);
        // The script tells its pid through the FIFO (the write waits for the test to read), then hangs as sleep.
        var mkcert = Script($"echo $$ > '{fifo}'\nexec sleep 120\n");
        using var cancel = new CancellationTokenSource();

        var run = HarnessCertificate.RunAsync(mkcert, "-CAROOT", cancel.Token);
        using var hanging = Process.GetProcessById(int.Parse((await File.ReadAllTextAsync(fifo).WaitAsync(Wait)).Trim()));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Wait));
        await hanging.WaitForExitAsync().WaitAsync(Wait);
        Assert.True(hanging.HasExited);
    }

    private string Script(string body)
    {
        var path = Path.Combine(_folder.FullName, "mkcert");
        File.WriteAllText(path, "#!/bin/sh\n" + body);
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("POSIX shell");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
