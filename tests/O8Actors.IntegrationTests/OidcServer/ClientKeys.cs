using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.IntegrationTests.OidcServer;

/// <summary>
/// A private_key_jwt client's key: a self-signed ECDSA P-256 certificate, or a bare key, and its public key as the JWK
/// the provider registers.
/// </summary>
public static class ClientKeys
{
    /// <summary>A new certificate with its private key.</summary>
    public static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        return new CertificateRequest("CN=o8-interop-client", key, HashAlgorithmName.SHA256).CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    /// <summary>The certificate's public key as a JWK (RFC 7517), with the key id O8Actors' assertions carry.</summary>
    public static JsonObject PublicJwk(X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPublicKey()!;
        var parameters = key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
            ["use"] = "sig",
            ["kid"] = Base64UrlEncoder.Encode(certificate.GetCertHash(HashAlgorithmName.SHA256)),
        };
    }

    /// <summary>A bare RSA key's public part as a JWK (RFC 7517) registered under <paramref name="keyId"/>.</summary>
    public static JsonObject PublicJwk(RSA key, string keyId)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "RSA",
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
            ["use"] = "sig",
            ["kid"] = keyId,
        };
    }
}
