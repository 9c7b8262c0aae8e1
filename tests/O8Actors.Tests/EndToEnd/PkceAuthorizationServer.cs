using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Providers;
using O8Actors.Tests.Providers;

namespace O8Actors.Tests.EndToEnd;

/// <summary>
/// A minimal authorization server on 127.0.0.1 for end-to-end tests of the core: <c>/authorize</c> redirects with a fresh
/// code, <c>/token</c> checks the client secret, the redirect URI and the PKCE verifier, accepts each code once, and
/// hands out a token derived from that code's state so a test can tell the logins apart. With
/// <see cref="OpenIdConnect"/> it also publishes a JWKS and returns an ES256 ID token that echoes the login's nonce.
/// </summary>
internal sealed class PkceAuthorizationServer : IAsyncDisposable
{
    public const string ClientId = "e2e-client";
    public const string ClientSecret = "e2e-secret-value";

    private sealed record Grant(string State, string Challenge, string RedirectUri, string? Nonce);

    private readonly ConcurrentDictionary<string, Grant> _grants = new();
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _secretsSeen = new();
    private int _tokensIssued;
    private int _rejected;
    private readonly TestIdTokens _keys = new();
    private readonly ECDsaSecurityKey _signing;

    private PkceAuthorizationServer(WebApplication app)
    {
        _app = app;
        _signing = _keys.EcKey("e2e-key");
    }

    /// <summary>When set, the strategy has a key set: logins send a nonce and get an ES256 ID token back.</summary>
    public bool OpenIdConnect { get; set; }

    /// <summary>When set, ID tokens carry a nonce other than the login's (an injected token).</summary>
    public bool ForgeNonce { get; set; }

    public string BaseUrl { get; private set; } = "";
    public int TokensIssued => Volatile.Read(ref _tokensIssued);
    public int Rejected => Volatile.Read(ref _rejected);

    /// <summary>Every code, verifier, token and the client secret this server handed out or received.</summary>
    public IReadOnlyCollection<string> SecretsSeen => [.. _secretsSeen, ClientSecret];

    /// <summary>When false, logins without PKCE are accepted (a provider that ignores PKCE).</summary>
    public bool RequirePkce { get; set; } = true;

    /// <summary>When set, <c>/authorize</c> redirects with <c>error=access_denied</c>, as if the user refused.</summary>
    public bool DenyAll { get; set; }

    /// <summary>When set, the token endpoint refuses every code with <c>invalid_grant</c> (after recording it).</summary>
    public bool RefuseAllCodes { get; set; }

    /// <summary>When set, every authorization response names this server as its issuer (<c>iss</c>, RFC 9207).</summary>
    public bool SendIssuer { get; set; }

    /// <summary>The access token this server issues for the login whose state is <paramref name="state"/>.</summary>
    public static string AccessTokenFor(string state) => "at-" + Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(state)))[..24];

    /// <summary>A generic OAuth 2.0 provider named <paramref name="name"/> pointing at this server.</summary>
    public GenericOAuthStrategy Strategy(string name) => new(new GenericOAuthOptions
    {
        Name = name,
        AuthorizationEndpoint = new Uri(BaseUrl + "/authorize"),
        TokenEndpoint = new Uri(BaseUrl + "/token"),
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        Issuer = OpenIdConnect ? BaseUrl : null,
        JwksUri = OpenIdConnect ? new Uri(BaseUrl + "/jwks") : null,
    });

    public static async Task<PkceAuthorizationServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new PkceAuthorizationServer(app);
        app.MapGet("/authorize", server.Authorize);
        app.MapPost("/token", server.Token);
        app.MapGet("/jwks", () => Results.Text(server._keys.Jwks(), "application/json"));
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return server;
    }

    private IResult Authorize(HttpRequest request)
    {
        var q = request.Query;
        if (q["client_id"] != ClientId || q["response_type"] != "code" || string.IsNullOrEmpty(q["state"]) || string.IsNullOrEmpty(q["redirect_uri"]))
            return Results.BadRequest("invalid authorize request");
        if (RequirePkce && (q["code_challenge_method"] != "S256" || string.IsNullOrEmpty(q["code_challenge"])))
            return Results.BadRequest("PKCE S256 required");
        if (DenyAll)
            return Results.Redirect($"{q["redirect_uri"]}?error=access_denied&error_description=The+user+refused&state={Uri.EscapeDataString(q["state"]!)}");
        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        _secretsSeen.Enqueue(code);
        var nonce = q["nonce"].ToString();
        if (nonce.Length > 0) _secretsSeen.Enqueue(nonce);
        _grants[code] = new Grant(q["state"]!, q["code_challenge"].ToString(), q["redirect_uri"]!, nonce.Length > 0 ? nonce : null);
        var iss = SendIssuer ? $"&iss={Uri.EscapeDataString(BaseUrl)}" : "";
        return Results.Redirect($"{q["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(q["state"]!)}{iss}");
    }

    private async Task<IResult> Token(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        _secretsSeen.Enqueue(form["code_verifier"].ToString());
        if (RefuseAllCodes) return Reject("invalid_grant");
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
        if (request.Headers.Authorization != $"Basic {basic}") return Reject("invalid_client", 401);
        if (form["grant_type"] != "authorization_code") return Reject("unsupported_grant_type");
        if (!_grants.TryRemove(form["code"].ToString(), out var grant)) return Reject("invalid_grant");
        if (form["redirect_uri"] != grant.RedirectUri) return Reject("invalid_grant");
        var verifier = form["code_verifier"].ToString();
        var challenge = Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        // A provider that ignores PKCE ignores the challenge it was sent, too.
        if (RequirePkce && challenge != grant.Challenge) return Reject("invalid_grant");

        Interlocked.Increment(ref _tokensIssued);
        var accessToken = AccessTokenFor(grant.State);
        var refreshToken = "rt-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        _secretsSeen.Enqueue(accessToken);
        _secretsSeen.Enqueue(refreshToken);
        if (!OpenIdConnect)
            return Results.Json(new { access_token = accessToken, token_type = "Bearer", expires_in = 3600, refresh_token = refreshToken });
        var claims = TestIdTokens.Claims(BaseUrl, ClientId, ForgeNonce ? "nonce-of-another-login" : grant.Nonce, DateTimeOffset.UtcNow);
        var idToken = TestIdTokens.Mint(claims, _signing);
        _secretsSeen.Enqueue(idToken);
        foreach (var part in idToken.Split('.')) _secretsSeen.Enqueue(part);
        return Results.Json(new { access_token = accessToken, token_type = "Bearer", expires_in = 3600, refresh_token = refreshToken, id_token = idToken });
    }

    private IResult Reject(string error, int status = 400)
    {
        Interlocked.Increment(ref _rejected);
        return Results.Json(new { error }, statusCode: status);
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _keys.Dispose();
    }
}
