using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// A compact JWS from a client (a DPoP proof, a client assertion), split and decoded without believing anything in it:
/// its header and claims are JSON objects, and each value is read only as the JSON type the specification gives it, so
/// a number where a string belongs, or a date no <see cref="DateTimeOffset"/> holds, is a refusal and never an exception.
/// </summary>
internal sealed class UntrustedJwt
{
    // RFC 7519 section 2: a NumericDate counts seconds from the epoch; only those between year 1 and 9999 are dates here.
    private static readonly long MinSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private readonly JsonElement _header;
    private readonly JsonElement _claims;
    private readonly string _signingInput;
    private readonly byte[] _signature;

    private UntrustedJwt(JsonElement header, JsonElement claims, string signingInput, byte[] signature)
    {
        _header = header;
        _claims = claims;
        _signingInput = signingInput;
        _signature = signature;
    }

    /// <summary>The three parts of <paramref name="compact"/>, or null when it is not a JWS with JSON-object header and claims.</summary>
    public static UntrustedJwt? TryParse(string? compact)
    {
        var parts = (compact ?? "").Split('.');
        if (parts.Length != 3) return null;
        try
        {
            var header = ParseObject(parts[0]);
            var claims = ParseObject(parts[1]);
            var signature = Base64Url.DecodeFromChars(parts[2]);
            return header is { } h && claims is { } c ? new UntrustedJwt(h, c, $"{parts[0]}.{parts[1]}", signature) : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    /// <summary>A header parameter that is a JSON string, else null.</summary>
    public string? HeaderString(string name) => StringOf(_header, name);

    /// <summary>A header parameter of any JSON type, else null.</summary>
    public JsonElement? HeaderValue(string name) => _header.TryGetProperty(name, out var value) ? value : null;

    /// <summary>A claim that is a JSON string, else null.</summary>
    public string? ClaimString(string name) => StringOf(_claims, name);

    /// <summary>
    /// A NumericDate claim: true with null when it is absent, true with the date when it is a number of seconds a
    /// <see cref="DateTimeOffset"/> holds, false when it is anything else (a string, milliseconds past year 9999, 1e400).
    /// </summary>
    public bool TryGetDate(string name, out DateTimeOffset? date)
    {
        date = null;
        if (!_claims.TryGetProperty(name, out var value)) return true;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || !double.IsFinite(seconds)) return false;
        var whole = Math.Floor(seconds);
        if (whole < MinSeconds || whole > MaxSeconds) return false;
        date = DateTimeOffset.FromUnixTimeSeconds((long)whole);
        return true;
    }

    /// <summary>
    /// The <c>aud</c> claim: a string, or an array of strings (RFC 7519 section 4.1.3); empty when absent or of another shape.
    /// </summary>
    public IReadOnlyList<string> Audiences()
    {
        if (ClaimString("aud") is { } single) return [single];
        if (!_claims.TryGetProperty("aud", out var value) || value.ValueKind != JsonValueKind.Array) return [];
        var audiences = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (AsString(item) is not { } audience) return [];
            audiences.Add(audience);
        }

        return audiences;
    }

    /// <summary>
    /// Whether the signature is valid by <paramref name="key"/> under the header's <c>alg</c>: ES256 (RFC 7518 section
    /// 3.4, r || s) with an ECDSA key, RS256 with an RSA key; any other pairing is not.
    /// </summary>
    public bool IsSignedBy(AsymmetricAlgorithm key)
    {
        var input = Encoding.ASCII.GetBytes(_signingInput);
        try
        {
            return (HeaderString("alg"), key) switch
            {
                ("ES256", ECDsa ecdsa) => _signature.Length == 64 && ecdsa.VerifyData(input, _signature, HashAlgorithmName.SHA256),
                ("RS256", RSA rsa) => rsa.VerifyData(input, _signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static JsonElement? ParseObject(string part)
    {
        using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(part));
        return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
    }

    /// <summary>Member <paramref name="name"/> of a JSON object when it is a string, else null.</summary>
    public static string? StringOf(JsonElement json, string name) => json.TryGetProperty(name, out var value) ? AsString(value) : null;

    private static string? AsString(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String) return null;
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // A lone escaped surrogate ("\ud800") is valid JSON but no UTF-16 string.
            return null;
        }
    }
}
