using System.Diagnostics;
using O8Actors.Configuration;

namespace O8Actors.Tests.Certificates;

/// <summary>
/// A temp folder holding a real mkcert ECDSA certificate for localhost, 127.0.0.1 and ::1, made once per test class.
/// The machine's mkcert CA is trusted by the system store (<c>mkcert -install</c>), so a plain HttpClient trusts it.
/// </summary>
public sealed class MkcertFolderFixture : IAsyncLifetime
{
    /// <summary>The folder with <c>localhost.pem</c> and <c>localhost-key.pem</c>.</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "o8-mkcert-" + Guid.NewGuid().ToString("N"));

    /// <summary>Certificate options pointing at <see cref="Folder"/>, never creating anything.</summary>
    public CertificateOptions Options => new() { Folder = Folder, AutoCreate = false };

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Folder);
        var start = new ProcessStartInfo("mkcert")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "-ecdsa", "-cert-file", Path.Combine(Folder, "localhost.pem"), "-key-file",
                     Path.Combine(Folder, "localhost-key.pem"), "localhost", "127.0.0.1", "::1",
                 })
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new InvalidOperationException("mkcert did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"mkcert failed ({process.ExitCode}): {await stderr}");
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { /* best effort */ }
        return Task.CompletedTask;
    }
}
