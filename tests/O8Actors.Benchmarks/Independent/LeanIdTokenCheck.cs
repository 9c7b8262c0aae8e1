using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace O8Actors.Benchmarks.Independent;

/// <summary>
/// The least an OpenID Connect login must do with the ID token its token request brings back, written by hand for the
/// lean login's variant that checks it (<c>--lean-oidc</c>): over a plain-http token endpoint (this harness's sandbox)
/// the TLS check cannot stand in for the signature (OpenID Connect Core 1.0 section 3.1.3.7), so the ES256 signature
/// by the provider's key, then <c>iss</c>, <c>aud</c>, <c>exp</c> and the login's <c>nonce</c>. The key is read from the
/// provider's JWKS once. No library, so the O8Actors rows can be read against what such a login cannot avoid.
/// </summary>
internal sealed class LeanIdTokenCheck : IDisposable
{
    private readonly ECDsa _key;
    private readonly string _issuer;
    private readonly string _clientId;

    private LeanIdTokenCheck(ECDsa key, string issuer, string clientId)
    {
        _key = key;
        _issuer = issuer;
        _clientId = clientId;
    }

    /// <summary>Reads the provider's discovery document and its first P-256 key.</summary>
    public static async Task<LeanIdTokenCheck> LoadAsync(string issuer, string clientId)
    {
        using var http = new HttpClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(issuer.TrimEnd('/') + "/.well-known/openid-configuration"));
        var jwksUri = discovery.RootElement.GetProperty("jwks_uri").GetString()!;
        using var jwks = JsonDocument.Parse(await http.GetStringAsync(jwksUri));
        var jwk = jwks.RootElement.GetProperty("keys").EnumerateArray()
            .First(k => k.GetProperty("kty").GetString() == "EC" && k.GetProperty("crv").GetString() == "P-256");
        var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64Url.DecodeFromChars(jwk.GetProperty("x").GetString()), Y = Base64Url.DecodeFromChars(jwk.GetProperty("y").GetString()) },
        });
        return new LeanIdTokenCheck(key, discovery.RootElement.GetProperty("issuer").GetString()!, clientId);
    }

    /// <summary>Whether <paramref name="idToken"/> is signed by the provider's key and names this client and this login.</summary>
    public bool Valid(string idToken, string nonce)
    {
        var firstDot = idToken.IndexOf('.');
        var lastDot = idToken.LastIndexOf('.');
        if (firstDot <= 0 || lastDot <= firstDot) return false;
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(idToken.AsSpan(0, firstDot)));
        if (header.RootElement.GetProperty("alg").GetString() != "ES256") return false;
        var signed = Encoding.ASCII.GetBytes(idToken, 0, lastDot);
        if (!_key.VerifyData(signed, Base64Url.DecodeFromChars(idToken.AsSpan(lastDot + 1)), HashAlgorithmName.SHA256)) return false;

        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(idToken.AsSpan(firstDot + 1, lastDot - firstDot - 1)));
        var claims = payload.RootElement;
        var audience = claims.GetProperty("aud");
        return claims.GetProperty("iss").GetString() == _issuer
            && (audience.ValueKind == JsonValueKind.String ? audience.GetString() == _clientId : audience.EnumerateArray().Any(a => a.GetString() == _clientId))
            && claims.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds()
            && claims.TryGetProperty("nonce", out var sent) && sent.GetString() == nonce;
    }

    public void Dispose() => _key.Dispose();
}
