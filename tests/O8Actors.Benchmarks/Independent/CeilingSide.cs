using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace O8Actors.Benchmarks.Independent;

/// <summary>
/// The ceiling of the independent setting: everything a login in this setting costs except the library's own work. A
/// bare Kestrel on the O8 side's port, certificate and protocols hands out a real authorize URL (the O8 client's, with
/// a state and a PKCE challenge) through the same stdout pipe, and a "login" ends when the browser lands on the
/// callback with that state: the page is a fixed 200 and no code is exchanged. No library can finish logins faster
/// than this on the same machine, browser and server; the O8 rows are read against it.
/// </summary>
internal sealed class CeilingSide : IAsyncDisposable
{
    private static readonly byte[] Page = Encoding.UTF8.GetBytes("<!DOCTYPE html><html><body>Signed in.</body></html>");
    // One fixed challenge is enough: the server checks its shape, and no code is ever exchanged here.
    private static readonly string Challenge = Convert.ToBase64String(SHA256.HashData("ceiling-verifier-ceiling-verifier-ceiling-0"u8))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);
    private readonly WebApplication _app;
    private readonly string _authorize;

    private CeilingSide(WebApplication app, string authorize)
    {
        _app = app;
        _authorize = authorize;
    }

    public static async Task<CeilingSide> StartAsync(int port, string issuer, X509Certificate2? certificate)
    {
        var app = O8Actors.Benchmarks.Roles.BareKestrel.Build(port, certificate);
        var redirect = $"{(certificate is null ? "http" : "https")}://localhost:{port}/sandbox";
        var local = new UriBuilder(issuer) { Host = "localhost" }.Uri;
        var authorize = new Uri(local, "/authorize") + "?response_type=code&client_id=" + AuthServerRole.O8Client
            + "&redirect_uri=" + Uri.EscapeDataString(redirect) + "&scope=openid%20offline_access&code_challenge=" + Challenge
            + "&code_challenge_method=S256&state=";
        var side = new CeilingSide(app, authorize);
        app.Run(side.Answer);
        await app.StartAsync();
        return side;
    }

    /// <summary>One login: hand out the URL, wait for the callback that carries its state.</summary>
    public async Task LoginAsync(Action<string> writeUrl, TimeSpan timeout)
    {
        var state = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var landed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[state] = landed;
        try
        {
            writeUrl(_authorize + state);
            await landed.Task.WaitAsync(timeout);
        }
        finally
        {
            _waiting.TryRemove(state, out _);
        }
    }

    private Task Answer(HttpContext context)
    {
        var state = context.Request.Query["state"].ToString();
        if (context.Request.Path != "/sandbox" || !_waiting.TryGetValue(state, out var landed))
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.ContentLength = Page.Length;
        landed.TrySetResult();
        return context.Response.Body.WriteAsync(Page, 0, Page.Length);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
