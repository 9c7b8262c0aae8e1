using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace O8Actors.Benchmarks.Driver;

/// <summary>Makes the two mkcert certificates (RSA-2048 and ECDSA P-256) in a temporary folder, and loads mkcert's root.</summary>
internal static class MkcertFiles
{
    public static async Task<(string Folder, X509Certificate2 Root)> CreateAsync()
    {
        var folder = Directory.CreateTempSubdirectory("o8-bench-certs-").FullName;
        await RunAsync("-cert-file", Path.Combine(folder, "rsa.pem"), "-key-file", Path.Combine(folder, "rsa-key.pem"), "localhost", "127.0.0.1", "::1");
        await RunAsync("-ecdsa", "-cert-file", Path.Combine(folder, "ecdsa.pem"), "-key-file", Path.Combine(folder, "ecdsa-key.pem"), "localhost", "127.0.0.1", "::1");
        var caRoot = (await RunAsync("-CAROOT")).Trim();
        return (folder, X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(caRoot, "rootCA.pem"))));
    }

    private static async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("mkcert") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("mkcert is not installed (apt-get install mkcert).");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"mkcert {string.Join(' ', args)} failed: {await error}");
        return await output;
    }
}
