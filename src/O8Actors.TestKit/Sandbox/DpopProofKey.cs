using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// The public key in a DPoP proof's <c>jwk</c> header (RFC 9449 section 4.2), read strictly: an object with <c>kty</c>
/// <c>EC</c>, <c>crv</c> <c>P-256</c>, and <c>x</c> and <c>y</c> base64url strings of 32 bytes each naming a point on the
/// curve, and no private part. Anything else is a reason, never an exception.
/// </summary>
internal sealed class DpopProofKey : IDisposable
{
    private const int CoordinateBytes = 32;
    private static readonly SearchValues<char> Base64UrlCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private DpopProofKey(ECDsa key, string thumbprint)
    {
        Key = key;
        Thumbprint = thumbprint;
    }

    /// <summary>The key, to check the proof's signature with.</summary>
    public ECDsa Key { get; }

    /// <summary>The RFC 7638 thumbprint (the <c>jkt</c> tokens are bound to).</summary>
    public string Thumbprint { get; }

    /// <summary>The key <paramref name="jwk"/> describes, or null with the reason it is refused.</summary>
    public static DpopProofKey? TryRead(JsonElement? jwk, out string? problem)
    {
        problem = null;
        if (jwk is not { ValueKind: JsonValueKind.Object } key)
        {
            problem = "The DPoP proof has no jwk header.";
            return null;
        }

        if (key.TryGetProperty("d", out _))
        {
            problem = "The DPoP proof's jwk holds a private key.";
            return null;
        }

        var x = UntrustedJwt.StringOf(key, "x");
        var y = UntrustedJwt.StringOf(key, "y");
        if (UntrustedJwt.StringOf(key, "kty") != "EC" || UntrustedJwt.StringOf(key, "crv") != "P-256"
            || Coordinate(x) is not { } qx || Coordinate(y) is not { } qy)
        {
            problem = "The DPoP proof's jwk must be a P-256 public key (kty EC, crv P-256, x and y of 32 bytes).";
            return null;
        }

        ECDsa ecdsa;
        try
        {
            ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = qx, Y = qy } });
        }
        catch (CryptographicException)
        {
            problem = "The DPoP proof's jwk is not a point on the P-256 curve.";
            return null;
        }

        // RFC 7638 section 3.2: the required members in lexicographic order, no whitespace; x and y are plain base64url.
        var canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{x}\",\"y\":\"{y}\"}}";
        return new DpopProofKey(ecdsa, Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))));
    }

    public void Dispose() => Key.Dispose();

    // Unpadded base64url only, so the thumbprint is computed over the very characters the key was sent in.
    private static byte[]? Coordinate(string? text) =>
        text is { Length: > 0 } && text.AsSpan().IndexOfAnyExcept(Base64UrlCharacters) < 0 && Base64Url.IsValid(text, out var length)
        && length == CoordinateBytes
            ? Base64Url.DecodeFromChars(text)
            : null;
}
