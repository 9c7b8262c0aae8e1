using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Providers;

/// <summary>
/// The client's assertions for <c>private_key_jwt</c> (RFC 7523 sections 2.2 and 3, OpenID Connect Core section 9): a
/// JWT with <c>iss</c> and <c>sub</c> the client id, <c>aud</c> the authorization server, a new <c>jti</c>, <c>iat</c>
/// and an <c>exp</c> a minute later, signed with the client's private key (RS256 for RSA, ES256 for P-256). A key from a
/// certificate is named by the certificate's thumbprints (<c>kid</c> and <c>x5t#S256</c>: SHA-256; for RSA also
/// <c>x5t</c>, SHA-1, which Microsoft Entra ID looks for); a key of its own by its key id (<c>kid</c>: the one it was
/// registered under, else its RFC 7638 thumbprint). A new one for every request, so a captured assertion expires within
/// the minute and its <c>jti</c> lets the server refuse a replay.
/// </summary>
internal static class ClientAssertions
{
    /// <summary>The <c>client_assertion_type</c> of a JWT assertion (RFC 7523 section 2.2).</summary>
    public const string JwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>How long an assertion is valid.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>
    /// Why the client's key cannot sign assertions, or null when it can: exactly one of <paramref name="certificate"/>
    /// (with its private key) and <paramref name="key"/> must be given.
    /// </summary>
    public static string? Problem(X509Certificate2? certificate, AsymmetricAlgorithm? key)
    {
        if (certificate is not null && key is not null)
            return "set ClientCertificate or ClientSigningKey, not both (one key signs the client's assertions).";
        if (key is not null) return KeyProblem(key, "ClientSigningKey");
        if (certificate is null) return "set ClientCertificate (a certificate with its private key) or ClientSigningKey (an RSA or ECDSA private key).";
        if (!certificate.HasPrivateKey) return "the ClientCertificate has no private key.";
        using var ecdsa = certificate.GetECDsaPublicKey();
        if (ecdsa is not null) return KeyProblem(ecdsa, "ClientCertificate");
        using var rsa = certificate.GetRSAPublicKey();
        return rsa is null ? "the ClientCertificate's key is neither RSA nor ECDSA." : KeyProblem(rsa, "ClientCertificate");
    }

    private static string? KeyProblem(AsymmetricAlgorithm key, string setting)
    {
        switch (key)
        {
            case ECDsa ecdsa:
                // By the curve's OID: another 256-bit curve (secp256k1) is not ES256's.
                var curve = ecdsa.ExportParameters(includePrivateParameters: false).Curve.Oid;
                return curve.Value == ECCurve.NamedCurves.nistP256.Oid.Value
                    ? null
                    : $"an ECDSA {setting} must be on P-256 (ES256), not {curve.FriendlyName ?? curve.Value}.";
            case RSA rsa:
                return rsa.KeySize >= 2048 ? null : $"an RSA {setting} needs at least 2048 bits, not {rsa.KeySize}.";
            default:
                return $"the {setting} is a {key.GetType().Name}; it must be RSA (RS256) or ECDSA P-256 (ES256).";
        }
    }

    /// <summary>
    /// The signer of <paramref name="certificate"/>'s assertions, named <paramref name="keyId"/> (the key id the app
    /// registered its public key under) or else by the certificate's SHA-256 thumbprint (check it with <see cref="Problem"/> first).
    /// </summary>
    public static Signer For(X509Certificate2 certificate, string? keyId = null) => new(certificate, keyId);

    /// <summary>
    /// The signer of <paramref name="key"/>'s assertions, named <paramref name="keyId"/> or else by the key's RFC 7638
    /// thumbprint (check it with <see cref="Problem"/> first).
    /// </summary>
    public static Signer For(AsymmetricAlgorithm key, string? keyId) => new(key, string.IsNullOrEmpty(keyId) ? Tokens.JwkThumbprint.Of(key) : keyId);

    /// <summary>
    /// Signs assertions with one key. Built once per provider and kept: the key object lives as long as the signer
    /// (IdentityModel caches its signature providers by key).
    /// </summary>
    internal sealed class Signer
    {
        private readonly SigningCredentials _credentials;
        private readonly Dictionary<string, object>? _header;

        public Signer(X509Certificate2 certificate, string? keyId)
        {
            var sha256 = Base64UrlEncoder.Encode(certificate.GetCertHash(HashAlgorithmName.SHA256));
            // The key id the app registered the certificate's key under, when it gave one: a server that picks the key by
            // kid refused the thumbprint.
            var kid = string.IsNullOrEmpty(keyId) ? sha256 : keyId;
            // RSA through X509SigningCredentials, which also writes x5t (the SHA-1 thumbprint Entra ID looks for).
            _credentials = certificate.GetECDsaPrivateKey() is { } ecdsa
                ? new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = kid }, SecurityAlgorithms.EcdsaSha256)
                : new X509SigningCredentials(certificate, SecurityAlgorithms.RsaSha256) { Key = { KeyId = kid } };
            _header = new Dictionary<string, object>(StringComparer.Ordinal) { ["x5t#S256"] = sha256 };
        }

        public Signer(AsymmetricAlgorithm key, string keyId)
        {
            // The app's key object itself (an RSACng over a stored key, a vault's RSA): it signs; its private part need not be
            // exportable (only the public part is read, for the default kid).
            _credentials = key switch
            {
                ECDsa ecdsa => new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = keyId }, SecurityAlgorithms.EcdsaSha256),
                RSA rsa => new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = keyId }, SecurityAlgorithms.RsaSha256),
                _ => throw new ArgumentException($"A {key.GetType().Name} cannot sign client assertions; use RSA or ECDSA P-256.", nameof(key)),
            };
        }

        /// <summary>The <c>kid</c> every assertion carries.</summary>
        public string KeyId => _credentials.Key.KeyId;

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
