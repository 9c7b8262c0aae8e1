using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using O8Actors.TestKit.Certificates;

namespace O8Actors.Benchmarks.Independent;

/// <summary>
/// The independent setting's browser, in a process of its own: it reads the app's stdout through a pipe, and for every
/// line that is a URL makes the two navigations a browser makes (authorize, then the callback the 302 points to), each
/// on a new TCP connection. Lines that are not URLs (an app's own log lines) are ignored. At the end of the pipe it
/// writes one summary line: <c>BROWSER cpuMs pairs failed firstFailure</c>.
/// </summary>
internal static class PipeBrowserRole
{
    public static async Task<int> RunAsync(Args args)
    {
        // For the https sides: trust the mkcert root the driver hands over, as a browser trusts an installed CA.
        var rootPath = args.Get("root", "");
        Root = rootPath.Length > 0 ? X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(rootPath)) : null;
        var pairs = 0;
        var failed = 0;
        string? firstFailure = null;
        var running = new List<Task>();
        string? line;
        while ((line = await Console.In.ReadLineAsync()) is not null)
        {
            if (!line.StartsWith("http://", StringComparison.Ordinal) && !line.StartsWith("https://", StringComparison.Ordinal)) continue;
            var url = new Uri(line.Trim());
            running.Add(Task.Run(async () =>
            {
                try
                {
                    await NavigateAsync(url);
                    Interlocked.Increment(ref pairs);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstFailure, $"{ex.GetType().Name}: {ex.Message}", null);
                }
            }));
            if (running.Count >= 1024) running.RemoveAll(t => t.IsCompleted);
        }

        await Task.WhenAll(running);
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"BROWSER {self.TotalProcessorTime.TotalMilliseconds:F0} {pairs} {failed} {firstFailure}"));
        return 0;
    }

    private static X509Certificate2? Root { get; set; }

    /// <summary>Authorize (expects a redirect), then the callback, each with its own handler: a new TCP connection.</summary>
    private static async Task NavigateAsync(Uri authorize)
    {
        var callback = await GetAsync(authorize, expectRedirect: true) ?? throw new HttpRequestException("No redirect from the authorize endpoint.");
        await GetAsync(callback, expectRedirect: false);
    }

    private static async Task<Uri?> GetAsync(Uri url, bool expectRedirect)
    {
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false };
        // As a browser where the mkcert root is installed: the platform's verdict first, the root only where the platform
        // refuses (before 2026-12-03 night each request built a second chain against the root, which a browser does not).
        if (Root is not null) handler.SslOptions.RemoteCertificateValidationCallback = CustomRootTrust.CreateBrowserCallback(Root);
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.ConnectionClose = true;
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        if (expectRedirect)
        {
            if ((int)response.StatusCode is < 300 or > 399 || response.Headers.Location is not { } location)
                throw new HttpRequestException($"Authorize answered HTTP {(int)response.StatusCode}, not a redirect.");
            return location.IsAbsoluteUri ? location : new Uri(url, location);
        }

        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"The callback answered HTTP {(int)response.StatusCode}.");
        return null;
    }
}
