using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Tests.Dpop;

/// <summary>
/// A resource server on loopback (real Kestrel) that accepts only DPoP-bound calls, checked as RFC 9449 section 7.1 asks:
/// a signed <c>dpop+jwt</c> proof whose key has the thumbprint the token is bound to, the request's method and URI, the
/// token's hash, the nonce it gave last, and a <c>jti</c> it has not seen. The first call gets <c>use_dpop_nonce</c>.
/// </summary>
internal sealed class DpopResourceServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte> _seenJti = new(StringComparer.Ordinal);
    private string _nonce = "n-" + Guid.NewGuid().ToString("N");
    private int _nonceChallenges;
    private int _accepted;
    private TaskCompletionSource? _challengeGate;
    private int _challengesToHold;
    private int _challengesHeld;

    private DpopResourceServer(WebApplication app) => _app = app;

    /// <summary>The token the server accepts, bound to <see cref="BoundThumbprint"/>.</summary>
    public string AccessToken { get; } = "at-" + Guid.NewGuid().ToString("N");

    /// <summary>The key thumbprint the token is bound to (its <c>cnf.jkt</c>).</summary>
    public required string BoundThumbprint { get; init; }

    /// <summary>The protected resource.</summary>
    public Uri Resource => new(new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()), "/api/me");

    /// <summary>How many calls were answered with <c>use_dpop_nonce</c>.</summary>
    public int NonceChallenges => _nonceChallenges;

    /// <summary>How many calls were accepted.</summary>
    public int Accepted => _accepted;

    /// <summary>The last refusal's reason, for assertions.</summary>
    public string? LastRefusal { get; private set; }

    /// <summary>Gives out a new nonce, as a server does from time to time.</summary>
    public void RotateNonce() => _nonce = "n-" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// Holds the next <paramref name="count"/> <c>use_dpop_nonce</c> answers until all of them are due, so requests sent
    /// together are all refused for the same nonce before any of them learns it (what a slow server does by chance).
    /// </summary>
    public void HoldNonceChallengesUntil(int count)
    {
        _challengesToHold = count;
        _challengesHeld = 0;
        _challengeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static async Task<DpopResourceServer> StartAsync(string boundThumbprint)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new DpopResourceServer(app) { BoundThumbprint = boundThumbprint };
        app.MapMethods("/api/me", ["GET", "POST"], (Func<HttpContext, Task<IResult>>)server.HandleAsync);
        await app.StartAsync();
        return server;
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var problem = await CheckAsync(context.Request);
        if (problem is null)
        {
            Interlocked.Increment(ref _accepted);
            var body = context.Request.ContentLength > 0 ? await new StreamReader(context.Request.Body).ReadToEndAsync() : "";
            return Results.Text("hello " + body);
        }

        LastRefusal = problem;
        context.Response.Headers["DPoP-Nonce"] = _nonce;
        if (problem == "use_dpop_nonce")
        {
            Interlocked.Increment(ref _nonceChallenges);
            if (_challengeGate is { } gate)
            {
                if (Interlocked.Increment(ref _challengesHeld) >= _challengesToHold) gate.TrySetResult();
                // Bounded: a request that never comes fails the test's assertions, not the server.
                await Task.WhenAny(gate.Task, Task.Delay(TimeSpan.FromSeconds(10)));
            }
        }
        // RFC 9449 section 7.1: a token the server does not take is invalid_token (a new one may do), a proof it does not
        // take invalid_dpop_proof, a proof without the current nonce use_dpop_nonce.
        var error = problem switch
        {
            "use_dpop_nonce" => problem,
            NotTheToken => "invalid_token",
            _ => "invalid_dpop_proof",
        };
        context.Response.Headers.WWWAuthenticate = $"DPoP error=\"{error}\", algs=\"ES256\"";
        return Results.StatusCode(StatusCodes.Status401Unauthorized);
    }

    private const string NotTheToken = "not a DPoP authorization with the bound token";

    private async Task<string?> CheckAsync(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization != "DPoP " + AccessToken) return NotTheToken;
        if (request.Headers["DPoP"].Count != 1) return "exactly one DPoP header";
        var proof = new JsonWebToken(request.Headers["DPoP"].ToString());
        if (proof.Typ != "dpop+jwt" || proof.Alg != "ES256") return "typ/alg";
        if (!proof.TryGetHeaderValue<JsonElement>("jwk", out var jwkElement)) return "no jwk";
        var jwk = new JsonWebKey(jwkElement.GetRawText());
        if (jwk.D is not null) return "the jwk holds a private key";
        if (Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()) != BoundThumbprint) return "key not the bound one";
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(proof.EncodedToken, new TokenValidationParameters
        {
            IssuerSigningKey = jwk, ValidateIssuer = false, ValidateAudience = false, ValidateLifetime = false, ValidTypes = ["dpop+jwt"],
        });
        if (!validation.IsValid) return "signature";
        var url = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
        if (proof.GetClaim("htm").Value != request.Method) return "htm";
        if (proof.GetClaim("htu").Value != url) return "htu";
        var ath = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(AccessToken)));
        if (!proof.TryGetClaim("ath", out var athClaim) || athClaim.Value != ath) return "ath";
        var iat = DateTimeOffset.FromUnixTimeSeconds(long.Parse(proof.GetClaim("iat").Value));
        if ((DateTimeOffset.UtcNow - iat).Duration() > TimeSpan.FromMinutes(1)) return "iat";
        if (!proof.TryGetClaim("nonce", out var nonce) || nonce.Value != _nonce) return "use_dpop_nonce";
        if (!_seenJti.TryAdd(proof.Id, 0)) return "replayed proof";
        return null;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
