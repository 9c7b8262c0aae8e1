using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Providers;

/// <summary>
/// The client's assertions for <c>private_key_jwt</c> (RFC 7523 sections 2.2 and 3, OpenID Connect Core section 9): a
/// JWT with <c>iss</c> and <c>sub</c> the client id, <c>aud</c> the authorization server, a new <c>jti</c>, <c>iat</c>
/// and an <c>exp</c> a minute later, signed with the client certificate's private key (RS256 for RSA, ES256 for P-256)
/// and naming the certificate by its thumbprints (<c>kid</c> and <c>x5t#S256</c>: SHA-256; for RSA also <c>x5t</c>,
/// SHA-1, which Microsoft Entra ID looks for). A new one for every request, so a captured assertion expires within the minute and
/// its <c>jti</c> lets the server refuse a replay.
/// </summary>
internal static class ClientAssertions
{
    /// <summary>The <c>client_assertion_type</c> of a JWT assertion (RFC 7523 section 2.2).</summary>
    public const string JwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>How long an assertion is valid.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Why <paramref name="certificate"/> cannot sign assertions, or null when it can.</summary>
    public static string? Problem(X509Certificate2? certificate)
    {
        if (certificate is null) return "set ClientCertificate (a certificate with its private key).";
        if (!certificate.HasPrivateKey) return "the ClientCertificate has no private key.";
        using var ecdsa = certificate.GetECDsaPublicKey();
        if (ecdsa is not null)
        {
            // By the curve's OID: another 256-bit curve (secp256k1) is not ES256's.
            var curve = ecdsa.ExportParameters(includePrivateParameters: false).Curve.Oid;
            return curve.Value == ECCurve.NamedCurves.nistP256.Oid.Value
                ? null
                : $"an ECDSA ClientCertificate must be on P-256 (ES256), not {curve.FriendlyName ?? curve.Value}.";
        }
        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is null) return "the ClientCertificate's key is neither RSA nor ECDSA.";
        return rsa.KeySize >= 2048 ? null : $"an RSA ClientCertificate needs at least 2048 bits, not {rsa.KeySize}.";
    }

    /// <summary>The signer of <paramref name="certificate"/>'s assertions (check it with <see cref="Problem"/> first).</summary>
    public static Signer For(X509Certificate2 certificate) => new(certificate);

    /// <summary>
    /// Signs assertions with one certificate's key. Built once per provider and kept: the key object lives as long as
    /// the signer (IdentityModel caches its signature providers by key).
    /// </summary>
    internal sealed class Signer
    {
        private readonly SigningCredentials _credentials;
        private readonly Dictionary<string, object> _header;

        public Signer(X509Certificate2 certificate)
        {
            var sha256 = Base64UrlEncoder.Encode(certificate.GetCertHash(HashAlgorithmName.SHA256));
            // RSA through X509SigningCredentials, which also writes x5t (the SHA-1 thumbprint Entra ID looks for).
            _credentials = certificate.GetECDsaPrivateKey() is { } ecdsa
                ? new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = sha256 }, SecurityAlgorithms.EcdsaSha256)
                : new X509SigningCredentials(certificate, SecurityAlgorithms.RsaSha256) { Key = { KeyId = sha256 } };
            _header = new Dictionary<string, object>(StringComparer.Ordinal) { ["x5t#S256"] = sha256 };
        }

        /// <summary>A new assertion for <paramref name="clientId"/> to present to <paramref name="audience"/> at <paramref name="now"/>.</summary>
        public string Create(string clientId, string audience, DateTimeOffset now) => Handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["iss"] = clientId,
                ["sub"] = clientId,
                ["aud"] = audience,
                ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
                ["iat"] = now.ToUnixTimeSeconds(),
                ["exp"] = (now + Lifetime).ToUnixTimeSeconds(),
            },
            SigningCredentials = _credentials,
            AdditionalHeaderClaims = _header,
        });
    }
}
