using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// Signs ID tokens with ES256 (ECDSA P-256, SHA-256, RFC 7518 §3.4) under a key created per sandbox,
/// and publishes the public key as a JWKS at <c>/jwks</c>.
/// </summary>
internal sealed class IdTokenSigner : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public string KeyId { get; } = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(8));

    public string Sign(JsonObject claims, string type = "JWT")
    {
        var header = new JsonObject { ["alg"] = "ES256", ["typ"] = type, ["kid"] = KeyId };
        var signingInput = $"{Encode(header)}.{Encode(claims)}";
        // .NET produces the IEEE P1363 (r || s) form that JWS requires by default.
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return $"{signingInput}.{Base64Url.EncodeToString(signature)}";
    }

    /// <summary>The OpenID Connect <c>at_hash</c>: left half of SHA-256 over the access token, base64url.</summary>
    public static string AccessTokenHash(string accessToken)
    {
        var hash = SHA256.HashData(Encoding.ASCII.GetBytes(accessToken));
        return Base64Url.EncodeToString(hash.AsSpan(0, hash.Length / 2));
    }

    public JsonObject Jwks()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        var jwk = new JsonObject
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["use"] = "sig",
            ["alg"] = "ES256",
            ["kid"] = KeyId,
            ["x"] = Base64Url.EncodeToString(parameters.Q.X),
            ["y"] = Base64Url.EncodeToString(parameters.Q.Y),
        };
        return new JsonObject { ["keys"] = new JsonArray(jwk) };
    }

    /// <summary>Verifies a compact JWS produced by this signer (for tests and probes).</summary>
    public bool Verify(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        try
        {
            var signature = Base64Url.DecodeFromChars(parts[2]);
            return _key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), signature, HashAlgorithmName.SHA256);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public void Dispose() => _key.Dispose();

    private static string Encode(JsonObject json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.ToJsonString()));
}
