using System.Collections.Concurrent;
using System.Net;
using O8Actors.Browser;

namespace O8Actors.Tests.EndToEnd;

/// <summary>
/// Stands in for a browser: follows the authorize URL to its redirect, then lands on the callback over a fresh
/// TLS connection (a new handler per landing, as a new browser tab would), and remembers each landing's page.
/// </summary>
internal sealed class HttpClientBrowser : IBrowserLauncher
{
    private readonly HttpClient _provider = new(new SocketsHttpHandler { AllowAutoRedirect = false });

    public ConcurrentDictionary<string, (HttpStatusCode Status, string Body)> Landings { get; } = new();

    public ConcurrentQueue<Exception> Errors { get; } = new();

    public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        _ = Task.Run(() => PlayAsync(authorizeUrl), CancellationToken.None);
        return Task.FromResult(BrowserLaunchResult.Opened("http-client"));
    }

    private async Task PlayAsync(Uri authorizeUrl)
    {
        try
        {
            using var redirect = await _provider.GetAsync(authorizeUrl);
            var callback = redirect.Headers.Location ?? throw new InvalidOperationException($"no redirect ({redirect.StatusCode})");
            using var tab = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.Zero });
            using var landing = await tab.GetAsync(callback);
            var state = System.Web.HttpUtility.ParseQueryString(callback.Query)["state"] ?? "";
            Landings[state] = (landing.StatusCode, await landing.Content.ReadAsStringAsync());
        }
        catch (Exception e)
        {
            Errors.Enqueue(e);
        }
    }
}
