using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// <c>private_key_jwt</c> assertions (RFC 7523): what they claim, that they verify with the certificate's public key
/// (RSA and ECDSA), that each is new, and which certificates are refused before any request.
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

        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(first.EncodedToken, new TokenValidationParameters
        {
            IssuerSigningKey = PublicKeyOf(certificate),
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);
    }

    [Fact]
    public void Certificates_that_cannot_sign_assertions_are_refused_with_the_reason()
    {
        using var p384 = EcdsaCertificate(ECCurve.NamedCurves.nistP384);
        using var rsa1024 = RsaCertificate(1024);
        using var good = EcdsaCertificate(ECCurve.NamedCurves.nistP256);
        using var publicOnly = X509CertificateLoader.LoadCertificate(good.RawData);

        Assert.Contains("set ClientCertificate", ClientAssertions.Problem(null));
        Assert.Contains("no private key", ClientAssertions.Problem(publicOnly));
        Assert.Contains("P-256", ClientAssertions.Problem(p384));
        Assert.Contains("2048", ClientAssertions.Problem(rsa1024));
        Assert.Null(ClientAssertions.Problem(good));
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
}
