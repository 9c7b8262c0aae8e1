using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Hosting;

/// <summary>
/// Loads the <c>private_key_jwt</c> credentials that configuration names by file: a PEM certificate with its key, or a
/// bare private key as PEM or as a JWK (the format Okta and others hand out). Errors name the file and what it holds,
/// never its contents.
/// </summary>
internal static class ClientKeyFiles
{
    /// <summary>A bare key and the key id its file names (a JWK's <c>kid</c>; none for PEM).</summary>
    internal readonly record struct BareKey(AsymmetricAlgorithm Key, string? KeyId);

    /// <summary>A PEM certificate and its private key (in <paramref name="keyFile"/>, or in the certificate file when null).</summary>
    public static X509Certificate2 Certificate(string certificateFile, string? keyFile)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            // The paths and the failure's kind only: never the key's contents.
            throw new ArgumentException(
                $"ClientCertificateFile '{certificateFile}'{(keyFile is null ? "" : $" with ClientKeyFile '{keyFile}'")} could not be loaded " +
                $"as a PEM certificate and private key ({ex.GetType().Name}).", "ClientCertificateFile", ex);
        }
    }

    /// <summary>
    /// A private key: a JWK (a JSON object, or a JWK set holding one key) or PEM (<c>PRIVATE KEY</c>, <c>EC PRIVATE KEY</c>
    /// or <c>RSA PRIVATE KEY</c>), as an ECDSA or RSA key. A public key or an encrypted one is refused by name: neither
    /// can sign from configuration alone.
    /// </summary>
    public static BareKey Key(string keyFile)
    {
        string text;
        try
        {
            text = File.ReadAllText(keyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"ClientKeyFile '{keyFile}' could not be read ({ex.GetType().Name}).", "ClientKeyFile", ex);
        }

        return text.TrimStart().StartsWith('{') ? FromJwk(text, keyFile) : new BareKey(FromPem(text, keyFile), null);
    }

    private static AsymmetricAlgorithm FromPem(string pem, string keyFile)
    {
        var label = PemEncoding.TryFind(pem, out var fields) ? pem[fields.Label] : null;
        if (label is not ("PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY"))
            throw new ArgumentException(
                $"ClientKeyFile '{keyFile}' holds {(label is null ? "no PEM block" : $"a '{label}' block")}, not an unencrypted private key " +
                "(PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY, or a private JWK). An encrypted key or one in a store or vault is set in code (ClientSigningKey).",
                "ClientKeyFile");
        // PKCS#8 (PRIVATE KEY) may hold either kind: ECDSA is tried first, then RSA.
        if (label != "RSA PRIVATE KEY" && TryImport(ECDsa.Create(), pem) is { } ecdsa) return ecdsa;
        if (label != "EC PRIVATE KEY" && TryImport(RSA.Create(), pem) is { } rsa) return rsa;
        throw new ArgumentException($"ClientKeyFile '{keyFile}' could not be loaded as an RSA or ECDSA private key.", "ClientKeyFile");
    }

    private static T? TryImport<T>(T key, string pem) where T : AsymmetricAlgorithm
    {
        try
        {
            key.ImportFromPem(pem);
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            return null;
        }
    }

    /// <summary>A private JWK (RFC 7518 section 6): RSA with its CRT parameters, or EC on P-256.</summary>
    private static BareKey FromJwk(string json, string keyFile)
    {
        JsonWebKey jwk;
        try
        {
            jwk = SingleKey(json);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"ClientKeyFile '{keyFile}' is JSON but not one JWK (or a JWK set with one key): {ex.GetType().Name}.", "ClientKeyFile", ex);
        }

        string Problem(string what) => $"ClientKeyFile '{keyFile}' holds a JWK {what}; a private RSA or P-256 EC key signs client assertions.";
        if (string.IsNullOrEmpty(jwk.D))
            throw new ArgumentException(Problem($"of type '{jwk.Kty}' without its private part ('d'): a public key"), "ClientKeyFile");
        var keyId = string.IsNullOrEmpty(jwk.Kid) ? null : jwk.Kid;
        try
        {
            switch (jwk.Kty)
            {
                case JsonWebAlgorithmsKeyTypes.EllipticCurve when jwk.Crv == JsonWebKeyECTypes.P256:
                    return new BareKey(ECDsa.Create(new ECParameters
                    {
                        Curve = ECCurve.NamedCurves.nistP256,
                        Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.X), Y = Base64UrlEncoder.DecodeBytes(jwk.Y) },
                        D = Base64UrlEncoder.DecodeBytes(jwk.D),
                    }), keyId);
                case JsonWebAlgorithmsKeyTypes.EllipticCurve:
                    throw new ArgumentException(Problem($"on curve '{jwk.Crv}'"), "ClientKeyFile");
                case JsonWebAlgorithmsKeyTypes.RSA when !string.IsNullOrEmpty(jwk.P) && !string.IsNullOrEmpty(jwk.Q):
                    return new BareKey(RSA.Create(new RSAParameters
                    {
                        Modulus = Base64UrlEncoder.DecodeBytes(jwk.N),
                        Exponent = Base64UrlEncoder.DecodeBytes(jwk.E),
                        D = Base64UrlEncoder.DecodeBytes(jwk.D),
                        P = Base64UrlEncoder.DecodeBytes(jwk.P),
                        Q = Base64UrlEncoder.DecodeBytes(jwk.Q),
                        DP = Base64UrlEncoder.DecodeBytes(jwk.DP),
                        DQ = Base64UrlEncoder.DecodeBytes(jwk.DQ),
                        InverseQ = Base64UrlEncoder.DecodeBytes(jwk.QI),
                    }), keyId);
                case JsonWebAlgorithmsKeyTypes.RSA:
                    throw new ArgumentException(Problem("of type 'RSA' without its prime factors ('p', 'q', 'dp', 'dq', 'qi')"), "ClientKeyFile");
                default:
                    throw new ArgumentException(Problem($"of type '{jwk.Kty}'"), "ClientKeyFile");
            }
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentNullException)
        {
            throw new ArgumentException($"ClientKeyFile '{keyFile}' holds a JWK whose key could not be loaded ({ex.GetType().Name}).", "ClientKeyFile", ex);
        }
    }

    private static JsonWebKey SingleKey(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("keys", out _)) return new JsonWebKey(json);
        var set = new JsonWebKeySet(json);
        return set.Keys.Count == 1 ? set.Keys[0] : throw new InvalidOperationException($"The JWK set holds {set.Keys.Count} keys, not one.");
    }
}
