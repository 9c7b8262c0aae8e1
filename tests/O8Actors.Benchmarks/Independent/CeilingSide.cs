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
    // One fixed verifier for every login (43 characters, RFC 7636's minimum): the server checks the challenge's shape,
    // and the lean sides send the verifier with their codes.
    private const string Verifier = "ceiling-verifier-ceiling-verifier-ceiling-0";
    private static readonly string Challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(Verifier)))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // Each login waiting for its callback, by state, with its nonce (the OpenID Connect variant's; else null).
    private readonly ConcurrentDictionary<string, (TaskCompletionSource Landed, string? Nonce)> _waiting = new(StringComparer.Ordinal);
    private readonly WebApplication _app;
    private readonly string _authorize;
    private readonly LeanExchange? _exchange;
    private readonly bool _nonces;

    private CeilingSide(WebApplication app, string authorize, LeanExchange? exchange, bool nonces)
    {
        _app = app;
        _authorize = authorize;
        _exchange = exchange;
        _nonces = nonces;
    }

    /// <summary>The redirect URI a side on <paramref name="port"/> hands out (and a client is registered with).</summary>
    public static string RedirectUri(int port, X509Certificate2? certificate) =>
        $"{(certificate is null ? "http" : "https")}://localhost:{port}/sandbox";

    /// <summary>
    /// Starts the side; with <paramref name="exchange"/> (the lean sides) each callback's code is exchanged before its
    /// page. The client is the independent setting's confidential one unless <paramref name="publicClientId"/> names a
    /// public client (this harness's sandbox registers one per row). With <paramref name="checkIdToken"/> (the lean login's
    /// OpenID Connect variant) each login sends a nonce and its ID token is checked by hand (<see cref="LeanIdTokenCheck"/>).
    /// The authorize URL and the token request name the server as the O8 side of the same setting does: by
    /// <paramref name="serverHost"/> (the independent setting's O8 app is given its endpoints at <c>localhost</c>), or by
    /// the issuer's own host when null (this harness's O8 rows read theirs from the issuer's discovery document).
    /// </summary>
    public static async Task<CeilingSide> StartAsync(int port, string issuer, X509Certificate2? certificate, bool exchange = false,
        string? publicClientId = null, bool checkIdToken = false, string? serverHost = "localhost")
    {
        var app = O8Actors.Benchmarks.Roles.BareKestrel.Build(port, certificate);
        var redirect = RedirectUri(port, certificate);
        var local = serverHost is null ? new Uri(issuer) : new UriBuilder(issuer) { Host = serverHost }.Uri;
        var clientId = publicClientId ?? AuthServerRole.O8Client;
        var authorize = new Uri(local, "/authorize") + "?response_type=code&client_id=" + Uri.EscapeDataString(clientId)
            + "&redirect_uri=" + Uri.EscapeDataString(redirect) + "&scope=openid%20offline_access&code_challenge=" + Challenge
            + "&code_challenge_method=S256&state=";
        var idTokens = exchange && checkIdToken ? await LeanIdTokenCheck.LoadAsync(issuer, clientId) : null;
        var lean = exchange
            ? new LeanExchange(new Uri(local, "/token"), redirect, Verifier, clientId, publicClientId is null ? AuthServerRole.O8Secret : null, idTokens)
            : null;
        var side = new CeilingSide(app, authorize, lean, nonces: idTokens is not null);
        app.Run(side.Answer);
        await app.StartAsync();
        return side;
    }

    /// <summary>One login: hand out the URL, wait for the callback that carries its state.</summary>
    public async Task LoginAsync(Action<string> writeUrl, TimeSpan timeout)
    {
        var state = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var landed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var nonce = _nonces ? Convert.ToHexString(RandomNumberGenerator.GetBytes(16)) : null;
        _waiting[state] = (landed, nonce);
        try
        {
            writeUrl(nonce is null ? _authorize + state : _authorize + state + "&nonce=" + nonce);
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
        if (context.Request.Path != "/sandbox" || !_waiting.TryGetValue(state, out var login))
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        }

        if (_exchange is not null) return ExchangeThenAnswerAsync(context, login.Landed, login.Nonce, _exchange);
        login.Landed.TrySetResult();
        return WritePageAsync(context);
    }

    private static async Task ExchangeThenAnswerAsync(HttpContext context, TaskCompletionSource landed, string? nonce, LeanExchange exchange)
    {
        var code = context.Request.Query["code"].ToString();
        if (code.Length == 0 || !await exchange.ExchangeAsync(code, nonce, context.RequestAborted))
        {
            context.Response.StatusCode = 502;
            landed.TrySetException(new InvalidOperationException("The token request failed or its answer lacked a required field."));
            return;
        }

        landed.TrySetResult();
        await WritePageAsync(context);
    }

    private static Task WritePageAsync(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.ContentLength = Page.Length;
        return context.Response.Body.WriteAsync(Page, 0, Page.Length);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _exchange?.Dispose();
    }
}
