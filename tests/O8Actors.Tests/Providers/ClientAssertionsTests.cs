using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// <c>private_key_jwt</c> assertions (RFC 7523): what they claim, that they verify with the certificate's public key
/// (RSA and ECDSA), that each is new, and which certificates are refused before any request; the same for a client's
/// bare key (registered as a public JWK), named by its key id or its RFC 7638 thumbprint.
/// </summary>
public sealed class ClientAssertionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static X509Certificate2 EcdsaCertificate(ECCurve curve)
    {
        using var key = ECDsa.Create(curve);
        return new CertificateRequest("CN=client", key, HashAlgorithmName.SHA256).CreateSelfSigned(Now.AddDays(-1), Now.AddDays(1));
    }

    private static X509Certificate2 RsaCertificate(int bits)
    {
        using var key = RSA.Create(bits);
        return new CertificateRequest("CN=client", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(Now.AddDays(-1), Now.AddDays(1));
    }

    private static SecurityKey PublicKeyOf(X509Certificate2 certificate) =>
        certificate.GetECDsaPublicKey() is { } ecdsa ? new ECDsaSecurityKey(ecdsa) : new RsaSecurityKey(certificate.GetRSAPublicKey()!);

    [Theory]
    [InlineData("ES256")]
    [InlineData("RS256")]
    public async Task An_assertion_names_the_client_and_the_server_and_verifies_with_the_certificates_public_key(string algorithm)
    {
        using var certificate = algorithm == "ES256" ? EcdsaCertificate(ECCurve.NamedCurves.nistP256) : RsaCertificate(2048);
        var signer = ClientAssertions.For(certificate);

        var first = new JsonWebToken(signer.Create("client-1", "https://issuer.example", Now));
        var second = new JsonWebToken(signer.Create("client-1", "https://issuer.example", Now));

        Assert.Equal(algorithm, first.Alg);
        Assert.Equal("client-1", first.Issuer);
        Assert.Equal("client-1", first.Subject);
        Assert.Equal(["https://issuer.example"], first.Audiences);
        Assert.Equal(Now.ToUnixTimeSeconds(), first.GetPayloadValue<long>("iat"));
        Assert.Equal((Now + ClientAssertions.Lifetime).ToUnixTimeSeconds(), first.GetPayloadValue<long>("exp"));
        Assert.NotEqual(first.Id, second.Id); // a new jti each time: a server refuses a replay by it
        var sha256 = Base64UrlEncoder.Encode(certificate.GetCertHash(HashAlgorithmName.SHA256));
        Assert.Equal(sha256, first.Kid);
        Assert.Equal(sha256, first.GetHeaderValue<string>("x5t#S256"));
        // RSA certificates are also named by their SHA-1 thumbprint (x5t), which Microsoft Entra ID looks for.
        if (algorithm == "RS256") Assert.Equal(Base64UrlEncoder.Encode(certificate.GetCertHash(HashAlgorithmName.SHA1)), first.X5t);

        await AssertSignedByAsync(first, PublicKeyOf(certificate));
    }

    [Fact]
    public void Certificates_that_cannot_sign_assertions_are_refused_with_the_reason()
    {
        using var p384 = EcdsaCertificate(ECCurve.NamedCurves.nistP384);
        using var rsa1024 = RsaCertificate(1024);
        using var good = EcdsaCertificate(ECCurve.NamedCurves.nistP256);
        using var publicOnly = X509CertificateLoader.LoadCertificate(good.RawData);

        Assert.Contains("set ClientCertificate", ClientAssertions.Problem(null, null));
        Assert.Contains("no private key", ClientAssertions.Problem(publicOnly, null));
        Assert.Contains("P-256", ClientAssertions.Problem(p384, null));
        Assert.Contains("2048", ClientAssertions.Problem(rsa1024, null));
        Assert.Null(ClientAssertions.Problem(good, null));
    }

    [Fact]
    public void A_private_key_jwt_provider_needs_a_certificate_and_no_secret()
    {
        var options = new GenericOAuthOptions
        {
            Name = "corp",
            AuthorizationEndpoint = new Uri("https://corp.example/authorize"),
            TokenEndpoint = new Uri("https://corp.example/token"),
            ClientId = "app",
            ClientAuthentication = ClientAuthentication.PrivateKeyJwt,
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(GenericOAuthOptions.ClientCertificate), error.ParamName);
        Assert.Contains("private_key_jwt", error.Message);

        using var certificate = EcdsaCertificate(ECCurve.NamedCurves.nistP256);
        options.ClientCertificate = certificate;
        options.Validate();
    }

    [Theory]
    [InlineData("ES256")]
    [InlineData("RS256")]
    public async Task A_bare_keys_assertion_is_named_by_its_JWK_thumbprint_and_verifies_with_its_public_key(string algorithm)
    {
        using AsymmetricAlgorithm key = algorithm == "ES256" ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        var signer = ClientAssertions.For(key, keyId: null);

        var assertion = new JsonWebToken(signer.Create("client-1", "https://issuer.example", Now));

        // The thumbprint as IdentityModel computes it from the public JWK: what a server does for a JWK registered without a kid.
        var publicKey = PublicSecurityKey(key);
        var expected = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromSecurityKey(publicKey).ComputeJwkThumbprint());
        Assert.Equal(algorithm, assertion.Alg);
        Assert.Equal(expected, assertion.Kid);
        Assert.Equal("client-1", assertion.Issuer);
        Assert.Equal("client-1", assertion.Subject);
        Assert.Equal(["https://issuer.example"], assertion.Audiences);
        // No certificate, so no certificate thumbprints.
        Assert.False(assertion.TryGetHeaderValue<string>("x5t#S256", out _));
        Assert.False(assertion.TryGetHeaderValue<string>("x5t", out _));

        await AssertSignedByAsync(assertion, publicKey);
    }

    [Fact]
    public async Task A_key_that_refuses_to_export_its_private_part_signs_all_the_same()
    {
        // As a key in a vault or a store behaves: it signs, and gives out its public part only.
        using var inner = RSA.Create(2048);
        using var vaultKey = new NonExportableRsa(inner);

        var assertion = new JsonWebToken(ClientAssertions.For(vaultKey, keyId: null).Create("client-1", "https://issuer.example", Now));

        Assert.Equal("RS256", assertion.Alg);
        await AssertSignedByAsync(assertion, new RsaSecurityKey(inner.ExportParameters(includePrivateParameters: false)));
        Assert.Throws<CryptographicException>(() => vaultKey.ExportParameters(includePrivateParameters: true));
    }

    /// <summary>An RSA key whose private part cannot be exported (what a vault's or an HSM's key object does).</summary>
    private sealed class NonExportableRsa(RSA inner) : RSA
    {
        public override int KeySize { get => inner.KeySize; set => throw new NotSupportedException(); }

        public override KeySizes[] LegalKeySizes => inner.LegalKeySizes;

        public override RSAParameters ExportParameters(bool includePrivateParameters) => includePrivateParameters
            ? throw new CryptographicException("The key is not exportable.")
            : inner.ExportParameters(includePrivateParameters: false);

        public override void ImportParameters(RSAParameters parameters) => throw new NotSupportedException();

        public override byte[] SignHash(byte[] hash, HashAlgorithmName hashAlgorithm, RSASignaturePadding padding) =>
            inner.SignHash(hash, hashAlgorithm, padding);

        public override bool VerifyHash(byte[] hash, byte[] signature, HashAlgorithmName hashAlgorithm, RSASignaturePadding padding) =>
            inner.VerifyHash(hash, signature, hashAlgorithm, padding);
    }

    [Fact]
    public void A_bare_key_registered_under_a_key_id_carries_that_id()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var assertion = new JsonWebToken(ClientAssertions.For(key, "app-key-2026-12").Create("client-1", "https://issuer.example", Now));

        Assert.Equal("app-key-2026-12", assertion.Kid);
    }

    [Fact]
    public void Bare_keys_that_cannot_sign_assertions_are_refused_with_the_reason()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa1024 = RSA.Create(1024);
        using var good = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = EcdsaCertificate(ECCurve.NamedCurves.nistP256);

        Assert.Contains("P-256", ClientAssertions.Problem(null, p384));
        Assert.Contains("2048", ClientAssertions.Problem(null, rsa1024));
        Assert.Contains("not both", ClientAssertions.Problem(certificate, good));
        Assert.Null(ClientAssertions.Problem(null, good));
    }

    [Fact]
    public void A_private_key_jwt_provider_takes_a_bare_key_instead_of_a_certificate_and_refuses_both()
    {
        using var key = RSA.Create(2048);
        using var certificate = EcdsaCertificate(ECCurve.NamedCurves.nistP256);
        var options = new GenericOAuthOptions
        {
            Name = "corp",
            AuthorizationEndpoint = new Uri("https://corp.example/authorize"),
            TokenEndpoint = new Uri("https://corp.example/token"),
            ClientId = "app",
            ClientAuthentication = ClientAuthentication.PrivateKeyJwt,
            ClientSigningKey = key,
        };
        options.Validate();
        Assert.Same(key, options.Clone().ClientSigningKey);

        options.ClientCertificate = certificate;
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(GenericOAuthOptions.ClientSigningKey), error.ParamName);
        Assert.Contains("not both", error.Message);
    }

    /// <summary>The assertion's signature verifies with <paramref name="publicKey"/> (its claims are checked by the caller).</summary>
    private static async Task AssertSignedByAsync(JsonWebToken assertion, SecurityKey publicKey)
    {
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(assertion.EncodedToken, new TokenValidationParameters
        {
            IssuerSigningKey = publicKey,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);
    }

    private static SecurityKey PublicSecurityKey(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ecdsa => new ECDsaSecurityKey(ECDsa.Create(ecdsa.ExportParameters(includePrivateParameters: false))),
        RSA rsa => new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: false)),
        _ => throw new ArgumentException("RSA or ECDSA only.", nameof(key)),
    };
}
