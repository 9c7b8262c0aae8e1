using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>
/// ES256 JWTs built by hand from JSON, so a test can put any value in any header or claim (a date no
/// <see cref="DateTimeOffset"/> holds, a key that is not a key) and still sign it properly; and DPoP proofs (RFC 9449)
/// made that way.
/// </summary>
public static class HandMadeJwt
{
    /// <summary>Signs <paramref name="header"/> and <paramref name="payload"/> as a compact JWS with <paramref name="key"/>.</summary>
    public static string Sign(ECDsa key, JsonObject header, JsonObject payload)
    {
        var input = $"{Encode(header)}.{Encode(payload)}";
        // .NET signs in the IEEE P1363 form (r || s) that JWS asks for.
        return $"{input}.{Base64Url.EncodeToString(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256))}";
    }

    /// <summary>The public part of a P-256 key as a JWK.</summary>
    public static JsonObject PublicJwk(ECDsa key)
    {
        var point = key.ExportParameters(includePrivateParameters: false).Q;
        return new JsonObject
        {
            ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(point.X), ["y"] = Base64Url.EncodeToString(point.Y),
        };
    }

    /// <summary>The header of a DPoP proof signed by <paramref name="key"/>.</summary>
    public static JsonObject ProofHeader(ECDsa key) => new() { ["typ"] = "dpop+jwt", ["alg"] = "ES256", ["jwk"] = PublicJwk(key) };

    /// <summary>The claims of a DPoP proof for <paramref name="method"/> <paramref name="target"/> at <paramref name="now"/>.</summary>
    public static JsonObject ProofClaims(Uri target, DateTimeOffset now, string? nonce = null, string method = "POST")
    {
        var claims = new JsonObject
        {
            ["jti"] = Guid.NewGuid().ToString("N"), ["htm"] = method, ["htu"] = target.AbsoluteUri, ["iat"] = now.ToUnixTimeSeconds(),
        };
        if (nonce is not null) claims["nonce"] = nonce;
        return claims;
    }

    /// <summary>A DPoP proof by <paramref name="key"/>, after <paramref name="tamper"/> has changed its header and claims.</summary>
    public static string Proof(ECDsa key, Uri target, DateTimeOffset now, string? nonce = null, Action<JsonObject, JsonObject>? tamper = null)
    {
        var header = ProofHeader(key);
        var claims = ProofClaims(target, now, nonce);
        tamper?.Invoke(header, claims);
        return Sign(key, header, claims);
    }

    /// <summary>The nonce a sandbox answer carries in its <c>DPoP-Nonce</c> header, if any.</summary>
    public static string? NonceOf(HttpResponseHeaders headers) =>
        headers.TryGetValues("DPoP-Nonce", out var values) ? values.Single() : null;

    /// <summary>
    /// A string value written as a lone escaped surrogate (<c>"\ud800"</c>): valid JSON that no UTF-16 string holds, so
    /// <see cref="JsonNode"/> cannot write it itself.
    /// </summary>
    public const string LoneSurrogate = "LONE-SURROGATE-MARKER";

    private static string Encode(JsonObject json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
        json.ToJsonString().Replace($"\"{LoneSurrogate}\"", "\"\\ud800\"", StringComparison.Ordinal)));
}
