using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// <c>private_key_jwt</c> with a bare key from configuration (<c>ClientKeyFile</c> without <c>ClientCertificateFile</c>):
/// the PEM kinds a key generator writes, and a private JWK (alone or in a set of one), load as the key that signs, under
/// the configured key id or the JWK's own; what cannot sign is refused naming the file and what it holds, never its contents.
/// </summary>
public sealed class ConfiguredClientKeyTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("o8-client-key-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void A_PKCS8_ECDSA_key_file_is_the_providers_signing_key_under_its_configured_key_id()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var file = Write("client-key.pem", key.ExportPkcs8PrivateKeyPem());

        var options = BuildGeneric(file, keyId: "crm-2026-12");

        var loaded = Assert.IsAssignableFrom<ECDsa>(options.ClientSigningKey);
        Assert.Equal(key.ExportParameters(false).Q.X, loaded.ExportParameters(false).Q.X);
        Assert.Equal("crm-2026-12", options.ClientSigningKeyId);
        Assert.Null(options.ClientCertificate);
        Assert.Equal(ClientAuthentication.PrivateKeyJwt, options.ClientAuthentication);
    }

    [Fact]
    public void A_PKCS1_RSA_key_file_loads_as_RSA_and_the_microsoft_preset_takes_it_for_private_key_jwt()
    {
        using var key = RSA.Create(2048);
        var file = Write("client-key.pem", key.ExportRSAPrivateKeyPem());

        var generic = BuildGeneric(file, keyId: null);
        var loaded = Assert.IsAssignableFrom<RSA>(generic.ClientSigningKey);
        Assert.Equal(key.ExportParameters(false).Modulus, loaded.ExportParameters(false).Modulus);
        Assert.Null(generic.ClientSigningKeyId); // the key's thumbprint names it

        var preset = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["entra:Preset"] = "microsoft",
            ["entra:Tenant"] = "organizations",
            ["entra:ClientId"] = "web-app",
            ["entra:ClientKeyFile"] = file,
            ["entra:ClientSigningKeyId"] = "entra-key-1",
        });
        var presetOptions = Assert.IsType<GenericOAuthStrategy>(preset).Options;
        Assert.Equal(ClientAuthentication.PrivateKeyJwt, presetOptions.ClientAuthentication);
        Assert.IsAssignableFrom<RSA>(presetOptions.ClientSigningKey);
        Assert.Equal("entra-key-1", presetOptions.ClientSigningKeyId);
    }

    [Theory]
    [InlineData("discord", "Discord")]
    [InlineData("github", "GitHub")]
    [InlineData("google", "Google")]
    public void A_preset_whose_provider_takes_no_client_assertion_refuses_a_key_file_at_start(string preset, string provider)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var file = Write("client-key.pem", key.ExportPkcs8PrivateKeyPem());

        // Taken, the key would sign assertions the provider refuses at the first code exchange: after the user approved.
        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            [$"{preset}:Preset"] = preset,
            [$"{preset}:ClientId"] = "app",
            [$"{preset}:ClientKeyFile"] = file,
        }));

        Assert.Contains($"{provider} does not accept private_key_jwt", error.Message);
        Assert.Contains("Set ClientSecret", error.Message);
    }

    [Theory]
    [InlineData("public")]
    [InlineData("encrypted")]
    [InlineData("not PEM")]
    public void A_key_file_that_cannot_sign_is_refused_naming_the_file_and_what_it_holds(string kind)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var contents = kind switch
        {
            "public" => key.ExportSubjectPublicKeyInfoPem(),
            "encrypted" => key.ExportEncryptedPkcs8PrivateKeyPem("passphrase",
                new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)),
            _ => "not a key at all",
        };
        var file = Write("client-key.pem", contents);

        var error = Assert.Throws<ArgumentException>(() => BuildGeneric(file, keyId: null));

        Assert.Contains("client-key.pem", error.Message);
        Assert.Contains(kind switch { "public" => "'PUBLIC KEY'", "encrypted" => "'ENCRYPTED PRIVATE KEY'", _ => "no PEM block" }, error.Message);
        // What the file holds is named; its contents never are.
        foreach (var line in contents.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("-----")))
            Assert.DoesNotContain(line, error.Message);
    }

    [Fact]
    public void A_private_EC_JWK_file_is_the_signing_key_under_its_own_kid_unless_configuration_names_one()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var file = Write("client-key.json", EcJwk(key, "P-256", kid: "okta-key-7", withPrivatePart: true));

        var options = BuildGeneric(file, keyId: null);

        var loaded = Assert.IsAssignableFrom<ECDsa>(options.ClientSigningKey);
        Assert.Equal(key.ExportParameters(false).Q.Y, loaded.ExportParameters(false).Q.Y);
        Assert.Equal("okta-key-7", options.ClientSigningKeyId);
        Assert.Equal("configured-id", BuildGeneric(file, keyId: "configured-id").ClientSigningKeyId);
    }

    [Fact]
    public void A_JWK_set_holding_one_private_RSA_key_loads_it()
    {
        using var key = RSA.Create(2048);
        var p = key.ExportParameters(true);
        var jwk = $$"""
            {"keys":[{"kty":"RSA","kid":"rsa-1","n":"{{B64(p.Modulus)}}","e":"{{B64(p.Exponent)}}","d":"{{B64(p.D)}}","p":"{{B64(p.P)}}","q":"{{B64(p.Q)}}","dp":"{{B64(p.DP)}}","dq":"{{B64(p.DQ)}}","qi":"{{B64(p.InverseQ)}}"}]}
            """;
        var file = Write("client-jwks.json", jwk);

        var options = BuildGeneric(file, keyId: null);

        var loaded = Assert.IsAssignableFrom<RSA>(options.ClientSigningKey);
        Assert.Equal(p.Modulus, loaded.ExportParameters(false).Modulus);
        Assert.Equal("rsa-1", options.ClientSigningKeyId);
        // It signs: a signature by the loaded key verifies with the original's public part.
        var data = "assertion"u8.ToArray();
        Assert.True(key.VerifyData(data, loaded.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Theory]
    [InlineData("public", "without its private part")]
    [InlineData("P-384", "curve 'P-384'")]
    public void A_JWK_that_cannot_sign_is_refused_naming_the_file_and_what_it_holds(string kind, string expected)
    {
        var curve = kind == "P-384" ? ECCurve.NamedCurves.nistP384 : ECCurve.NamedCurves.nistP256;
        using var key = ECDsa.Create(curve);
        var jwk = EcJwk(key, kind == "P-384" ? "P-384" : "P-256", kid: null, withPrivatePart: kind != "public");
        var file = Write("client-key.json", jwk);

        var error = Assert.Throws<ArgumentException>(() => BuildGeneric(file, keyId: null));

        Assert.Contains("client-key.json", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain(B64(key.ExportParameters(false).Q.X), error.Message);
    }

    private static string EcJwk(ECDsa key, string crv, string? kid, bool withPrivatePart)
    {
        var p = key.ExportParameters(includePrivateParameters: withPrivatePart);
        var d = withPrivatePart ? $",\"d\":\"{B64(p.D)}\"" : "";
        var id = kid is null ? "" : $",\"kid\":\"{kid}\"";
        return $"{{\"kty\":\"EC\",\"crv\":\"{crv}\",\"x\":\"{B64(p.Q.X)}\",\"y\":\"{B64(p.Q.Y)}\"{d}{id}}}";
    }

    private static string B64(byte[]? bytes) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(bytes);

    [Fact]
    public void A_key_file_without_ClientAuthentication_makes_a_plain_provider_use_private_key_jwt_even_beside_a_secret()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var file = Write("client-key.pem", key.ExportPkcs8PrivateKeyPem());

        var keyOnly = BuildGeneric(file, keyId: null, clientAuthentication: null);
        Assert.Equal(ClientAuthentication.PrivateKeyJwt, keyOnly.ClientAuthentication);
        Assert.IsAssignableFrom<ECDsa>(keyOnly.ClientSigningKey);

        // With a secret too, the key is what was configured to sign: it is not left unused behind client_secret_basic.
        var withSecret = BuildGeneric(file, keyId: null, clientAuthentication: null, secret: "crm-secret");
        Assert.Equal(ClientAuthentication.PrivateKeyJwt, withSecret.ClientAuthentication);

        // An explicit choice stays the app's.
        Assert.Equal(ClientAuthentication.Post, BuildGeneric(file, keyId: null, clientAuthentication: "Post", secret: "crm-secret").ClientAuthentication);
    }

    [Fact]
    public void A_key_file_without_ClientAuthentication_makes_a_discovery_provider_use_private_key_jwt_even_beside_a_secret()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var file = Write("client-key.pem", key.ExportPkcs8PrivateKeyPem());
        OidcDiscoveryStrategy Discovery(string? clientAuthentication) => Assert.IsType<OidcDiscoveryStrategy>(ConfiguredProviderSettings.BuildOne(
            new Dictionary<string, string?>
            {
                ["corp:Issuer"] = "https://login.corp.example.com",
                ["corp:ClientId"] = "corp-client",
                ["corp:ClientSecret"] = "corp-secret",
                ["corp:ClientKeyFile"] = file,
                ["corp:ClientAuthentication"] = clientAuthentication,
            }));

        // Left to the metadata, the secret would win (client_secret_basic) and the key configured to replace it sign nothing.
        Assert.Equal(ClientAuthentication.PrivateKeyJwt, Discovery(clientAuthentication: null).ConfiguredClientAuthentication);
        Assert.Equal(ClientAuthentication.Post, Discovery(clientAuthentication: "Post").ConfiguredClientAuthentication);
    }

    [Fact]
    public void An_explicit_ClientAuthentication_of_a_preset_wins_over_its_key_file()
    {
        using var key = RSA.Create(2048);
        var file = Write("client-key.pem", key.ExportRSAPrivateKeyPem());

        var preset = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["entra:Preset"] = "microsoft",
            ["entra:Tenant"] = "organizations",
            ["entra:ClientId"] = "web-app",
            ["entra:ClientSecret"] = "entra-secret",
            ["entra:ClientAuthentication"] = "Post",
            ["entra:ClientKeyFile"] = file,
        });

        Assert.Equal(ClientAuthentication.Post, Assert.IsType<GenericOAuthStrategy>(preset).Options.ClientAuthentication);
    }

    /// <summary>
    /// The start's check builds the configured providers only to see that they build, and the start builds them again:
    /// the certificates and keys the check read are disposed (they were left to their finalizers before).
    /// </summary>
    [Fact]
    public void The_provider_check_the_start_runs_disposes_the_certificates_and_keys_it_read_from_the_providers_files()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issued = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=crm-client", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var keyFile = Write("client-key.pem", key.ExportPkcs8PrivateKeyPem());
        var certificateFile = Write("client.pem", issued.ExportCertificatePem());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["O8:Providers:crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize",
            ["O8:Providers:crm:TokenEndpoint"] = "https://crm.example.com/token",
            ["O8:Providers:crm:ClientId"] = "crm-client",
            ["O8:Providers:crm:ClientKeyFile"] = keyFile,
            ["O8:Providers:entra:Preset"] = "microsoft",
            ["O8:Providers:entra:Tenant"] = "organizations",
            ["O8:Providers:entra:ClientId"] = "web-app",
            ["O8:Providers:entra:ClientCertificateFile"] = certificateFile,
            ["O8:Providers:entra:ClientKeyFile"] = keyFile,
        }).Build();

        var read = ConfiguredProviders.Check(configuration.GetSection("O8:Providers"));

        var signingKey = Assert.IsAssignableFrom<ECDsa>(Assert.Single(read, r => r is AsymmetricAlgorithm));
        Assert.Throws<ObjectDisposedException>(() => signingKey.ExportParameters(false));
        var certificate = Assert.IsType<System.Security.Cryptography.X509Certificates.X509Certificate2>(
            Assert.Single(read, r => r is System.Security.Cryptography.X509Certificates.X509Certificate2));
        Assert.Equal(IntPtr.Zero, certificate.Handle);
        // A build that keeps its providers keeps them alive: they sign with them.
        var kept = ConfiguredProviders.Build(configuration.GetSection("O8:Providers"));
        var keptKey = Assert.IsAssignableFrom<ECDsa>(Assert.IsType<GenericOAuthStrategy>(kept[0]).Options.ClientSigningKey);
        Assert.Equal(key.ExportParameters(false).Q.X, keptKey.ExportParameters(false).Q.X);
    }

    [Fact]
    public void A_missing_key_file_is_named()
    {
        var error = Assert.Throws<ArgumentException>(() => BuildGeneric(Path.Combine(_folder.FullName, "absent.pem"), keyId: null));

        Assert.Contains("absent.pem", error.Message);
        Assert.Contains("'O8:Providers:crm'", error.Message);
    }

    private string Write(string name, string contents)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllText(path, contents);
        return path;
    }

    private static GenericOAuthOptions BuildGeneric(string keyFile, string? keyId, string? clientAuthentication = "PrivateKeyJwt", string? secret = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize",
            ["crm:TokenEndpoint"] = "https://crm.example.com/token",
            ["crm:ClientId"] = "crm-client",
            ["crm:ClientKeyFile"] = keyFile,
        };
        if (clientAuthentication is not null) settings["crm:ClientAuthentication"] = clientAuthentication;
        if (secret is not null) settings["crm:ClientSecret"] = secret;
        if (keyId is not null) settings["crm:ClientSigningKeyId"] = keyId;
        return Assert.IsType<GenericOAuthStrategy>(ConfiguredProviderSettings.BuildOne(settings)).Options;
    }
}
