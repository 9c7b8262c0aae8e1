using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A stand-in identity provider's keys: ECDSA P-256 and RSA keys made per test, a JWKS of the published ones, and ID
/// tokens minted with Microsoft.IdentityModel's <see cref="JsonWebTokenHandler"/>.
/// </summary>
internal sealed class TestIdTokens : IDisposable
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly List<(string? Kid, AsymmetricAlgorithm Key)> _published = [];
    private readonly List<AsymmetricAlgorithm> _all = [];

    /// <summary>Makes an ECDSA P-256 key; published in the JWKS unless <paramref name="publish"/> is false; null <paramref name="kid"/>: none, in the set or in the tokens it signs.</summary>
    public ECDsaSecurityKey EcKey(string? kid, bool publish = true)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _all.Add(key);
        if (publish) _published.Add((kid, key));
        return new ECDsaSecurityKey(key) { KeyId = kid };
    }

    /// <summary>Makes an RSA 2048 key; published unless <paramref name="publish"/> is false.</summary>
    public RsaSecurityKey RsaKey(string kid, bool publish = true)
    {
        var key = RSA.Create(2048);
        _all.Add(key);
        if (publish) _published.Add((kid, key));
        return new RsaSecurityKey(key) { KeyId = kid };
    }

    /// <summary>Takes every key out of the JWKS (a provider replacing its keys).</summary>
    public void WithdrawAll() => _published.Clear();

    /// <summary>The JWKS document of the published keys.</summary>
    public string Jwks()
    {
        var keys = new JsonArray();
        foreach (var (kid, key) in _published)
        {
            if (key is ECDsa ec)
            {
                var p = ec.ExportParameters(false);
                keys.Add(new JsonObject
                {
                    ["kty"] = "EC", ["crv"] = "P-256", ["use"] = "sig",
                    ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y),
                });
                if (kid is not null) keys[^1]!["kid"] = kid;
            }
            else if (key is RSA rsa)
            {
                var p = rsa.ExportParameters(false);
                keys.Add(new JsonObject
                {
                    ["kty"] = "RSA", ["use"] = "sig", ["kid"] = kid,
                    ["n"] = Base64Url.EncodeToString(p.Modulus), ["e"] = Base64Url.EncodeToString(p.Exponent),
                });
            }
        }
        return new JsonObject { ["keys"] = keys }.ToJsonString();
    }

    /// <summary>The claims of a good ID token at <paramref name="now"/>.</summary>
    public static Dictionary<string, object> Claims(string issuer, string audience, string? nonce, DateTimeOffset now)
    {
        var claims = new Dictionary<string, object>
        {
        ["iss"] = issuer,
        ["sub"] = "user-42",
        ["aud"] = audience,
        ["iat"] = now.ToUnixTimeSeconds(),
        ["exp"] = now.AddMinutes(10).ToUnixTimeSeconds(),
        ["email"] = "ada@example.test",
        ["name"] = "Ada",
        };
        if (nonce is not null) claims["nonce"] = nonce;
        return claims;
    }

    /// <summary>Signs <paramref name="claims"/> with <paramref name="key"/> under <paramref name="algorithm"/>; no key means <c>alg=none</c>.</summary>
    /// <param name="type">The <c>typ</c> header; null leaves the handler's default.</param>
    public static string Mint(Dictionary<string, object> claims, SecurityKey? key, string? algorithm = null, string? type = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = key is null ? null : new SigningCredentials(key, algorithm ?? Default(key)),
        };
        if (type is not null) descriptor.TokenType = type;
        return Handler.CreateToken(descriptor);
    }

    private static string Default(SecurityKey key) => key switch
    {
        ECDsaSecurityKey => SecurityAlgorithms.EcdsaSha256,
        RsaSecurityKey => SecurityAlgorithms.RsaSha256,
        _ => SecurityAlgorithms.HmacSha256,
    };

    public void Dispose()
    {
        foreach (var key in _all) key.Dispose();
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class MovableTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
