using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace O8Actors.IntegrationTests.Https;

/// <summary>
/// A tiny Kestrel HTTPS app on 127.0.0.1 (port 0) that stands in for the O8Actors listener in the harness proof
/// tests: it records every redirect that reaches <c>/</c> and answers with a short page.
/// </summary>
public sealed class RedirectCaptureServer : IAsyncDisposable
{
    /// <summary>The text of the page every captured redirect gets.</summary>
    public const string LandingText = "redirect received by the capture server";

    private readonly WebApplication _app;
    private readonly Recorder _recorder;

    private RedirectCaptureServer(WebApplication app, Recorder recorder, int port)
    {
        _app = app;
        _recorder = recorder;
        Port = port;
    }

    /// <summary>The bound port.</summary>
    public int Port { get; }

    /// <summary>The redirect URI to register: <c>https://localhost:PORT/</c>.</summary>
    public Uri RedirectUri => new($"https://localhost:{Port}/");

    /// <summary>Every redirect received so far.</summary>
    public IReadOnlyCollection<CapturedRedirect> Received => _recorder.All.ToArray();

    /// <summary>Starts the app with <paramref name="certificate"/>.</summary>
    public static async Task<RedirectCaptureServer> StartAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();

        var recorder = new Recorder();
        app.MapGet("/", (HttpContext context) =>
        {
            var redirect = new CapturedRedirect(context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()));
            recorder.Record(redirect);
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text(LandingText, "text/plain");
        });

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RedirectCaptureServer(app, recorder, new Uri(address).Port);
    }

    /// <summary>Waits for the redirect carrying <paramref name="state"/>.</summary>
    /// <exception cref="TimeoutException">None arrived within <paramref name="timeout"/>.</exception>
    public async Task<CapturedRedirect> WaitForStateAsync(string state, TimeSpan timeout)
    {
        try
        {
            return await _recorder.Slot(state).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No redirect with the expected state reached the capture server within {timeout.TotalSeconds:0} s " +
                                       $"({_recorder.All.Count} other redirects arrived).");
        }
    }

    /// <summary>Shared by the request handler and the waiters; exists before Kestrel takes its first request.</summary>
    private sealed class Recorder
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<CapturedRedirect>> _byState = new();

        public ConcurrentQueue<CapturedRedirect> All { get; } = new();

        public void Record(CapturedRedirect redirect)
        {
            All.Enqueue(redirect);
            if (redirect.State is { } state) Slot(state).TrySetResult(redirect);
        }

        public TaskCompletionSource<CapturedRedirect> Slot(string state) =>
            _byState.GetOrAdd(state, _ => new TaskCompletionSource<CapturedRedirect>(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One redirect's query parameters.</summary>
/// <param name="Query">Every parameter (holds the authorization code: do not print).</param>
public sealed record CapturedRedirect(IReadOnlyDictionary<string, string> Query)
{
    /// <summary>The <c>code</c> parameter.</summary>
    public string? Code => Query.GetValueOrDefault("code");

    /// <summary>The <c>state</c> parameter.</summary>
    public string? State => Query.GetValueOrDefault("state");

    /// <summary>The <c>iss</c> parameter (RFC 9207).</summary>
    public string? Iss => Query.GetValueOrDefault("iss");

    /// <summary>The <c>error</c> parameter.</summary>
    public string? Error => Query.GetValueOrDefault("error");

    /// <summary>The <c>error_description</c> parameter.</summary>
    public string? ErrorDescription => Query.GetValueOrDefault("error_description");

    /// <inheritdoc />
    public override string ToString() =>
        $"CapturedRedirect {{ Keys = {string.Join(',', Query.Keys)}, Error = {Error}, Iss = {Iss} }}";
}
