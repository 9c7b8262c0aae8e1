using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// <c>private_key_jwt</c> (RFC 7523) end to end: O8Actors' logins, refreshes and sign-outs authenticate with assertions
/// signed by the client's key, and the sandbox refuses the assertions an attacker could present: signed with another
/// key, captured and sent again, expired, meant for another server, or a secret in place of an assertion. A client
/// registered with a bare public key (a JWK, no certificate) signs in with that key, named by its key id; another key or
/// another id gets nowhere.
/// </summary>
public sealed class PrivateKeyJwtTests
{
    private const string ClientId = "corp-app";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Logins_refreshes_and_sign_outs_authenticate_with_the_clients_assertions()
    {
        await using var o8 = await O8TestHarness.StartAsync(new O8TestHarnessOptions { ClientAuthentication = ClientAuthMethod.PrivateKeyJwt });
        Assert.Null(o8.Client.Secret);

        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        var renewed = await o8.Logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);
        var signedOut = await o8.Logins.SignOutAsync(account).WaitAsync(Wait);

        Assert.NotEqual(tokens.AccessToken, renewed.Token);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        Assert.Equal(RevocationOutcome.Revoked, signedOut.Revocation);
        Assert.False(o8.Sandbox.IsActive(renewed.Token));
        Assert.Equal(0, o8.Sandbox.Counters.Errors("invalid_client"));
    }

    [Fact]
    public async Task Assertions_an_attacker_could_present_are_refused()
    {
        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=corp-app", clientKey, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var sandbox = await SandboxAuthorizationServer.StartAsync(new SandboxOptions());
        sandbox.RegisterClient(ClientId, null, ["http://127.0.0.1/cb"], ClientAuthMethod.PrivateKeyJwt, certificate);
        var now = DateTimeOffset.UtcNow;
        string Assertion(ECDsa key, string audience, DateTimeOffset expires) => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }
            .CreateToken(new SecurityTokenDescriptor
            {
                Claims = new Dictionary<string, object>
                {
                    ["iss"] = ClientId, ["sub"] = ClientId, ["aud"] = audience,
                    ["jti"] = Guid.NewGuid().ToString("N"), ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = expires.ToUnixTimeSeconds(),
                },
                SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256),
            });

        var genuine = Assertion(clientKey, sandbox.IssuerString, now.AddMinutes(1));
        Assert.Equal(HttpStatusCode.OK, await IntrospectAsync(sandbox, genuine));
        // Captured and sent again: its jti was used.
        Assert.Equal(HttpStatusCode.Unauthorized, await IntrospectAsync(sandbox, genuine));
        // Signed with a key of the attacker's own.
        Assert.Equal(HttpStatusCode.Unauthorized, await IntrospectAsync(sandbox, Assertion(otherKey, sandbox.IssuerString, now.AddMinutes(1))));
        // Expired.
        Assert.Equal(HttpStatusCode.Unauthorized, await IntrospectAsync(sandbox, Assertion(clientKey, sandbox.IssuerString, now.AddMinutes(-5))));
        // Meant for another server.
        Assert.Equal(HttpStatusCode.Unauthorized, await IntrospectAsync(sandbox, Assertion(clientKey, "https://other.example", now.AddMinutes(1))));
        // Valid for a day.
        Assert.Equal(HttpStatusCode.Unauthorized, await IntrospectAsync(sandbox, Assertion(clientKey, sandbox.IssuerString, now.AddDays(1))));
        // A guessed secret instead of an assertion.
        Assert.Equal(HttpStatusCode.Unauthorized, await IntrospectAsync(sandbox, assertion: null, basicSecret: "guess"));
        // The token endpoint's own address is an audience too (OpenID Connect Core section 9).
        Assert.Equal(HttpStatusCode.OK, await IntrospectAsync(sandbox, Assertion(clientKey, sandbox.TokenEndpoint.AbsoluteUri, now.AddMinutes(1))));
        Assert.Equal(6, sandbox.Counters.Errors("invalid_client"));
    }

    [Fact]
    public async Task A_client_registered_with_a_bare_key_signs_in_and_refreshes_with_assertions_named_by_its_thumbprint()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        using var key = RSA.Create(2048);
        // The kid a server computes for a public JWK registered without one (RFC 7638), by IdentityModel, not O8Actors.
        var thumbprint = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromRSASecurityKey(
            new RsaSecurityKey(key.ExportParameters(includePrivateParameters: false))).ComputeJwkThumbprint());
        await RegisterBareKeyProviderAsync(o8, key, keyId: null, registeredKey: key, registeredKeyId: thumbprint);

        var outcome = await o8.Logins.RunAsync(BareKeyProvider, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);
        var signedIn = Assert.IsType<LoginSucceeded>(outcome);
        var renewed = await o8.Logins.GetAccessTokenAsync(signedIn.Account!, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);

        Assert.NotEqual(signedIn.Tokens.AccessToken, renewed.Token);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        Assert.Equal(0, o8.Sandbox.Counters.Errors("invalid_client"));
    }

    [Theory]
    [InlineData("another key id")]
    [InlineData("another key")]
    public async Task A_bare_key_the_server_does_not_hold_under_that_key_id_cannot_sign_in(string attempt)
    {
        await using var o8 = await O8TestHarness.StartAsync();
        using var registered = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // The right id on a key the server never saw (a stolen id, a rotated key), or the right key under an id it does not know.
        var (signingKey, keyId) = attempt == "another key" ? (other, "corp-2026-12") : (registered, "corp-2025-01");
        await RegisterBareKeyProviderAsync(o8, signingKey, keyId, registeredKey: registered, registeredKeyId: "corp-2026-12");

        var outcome = await o8.Logins.RunAsync(BareKeyProvider, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.TokenExchange, failed.Failure);
        Assert.Equal("invalid_client", failed.ProviderError);
        Assert.Equal(1, o8.Sandbox.Counters.Errors("invalid_client"));
    }

    private const string BareKeyProvider = "corp-key";

    /// <summary>
    /// Registers a provider signing with <paramref name="key"/> beside the harness's own, and its client at the sandbox with
    /// the public part of <paramref name="registeredKey"/> under <paramref name="registeredKeyId"/> (a JWK, no certificate).
    /// </summary>
    private static async Task RegisterBareKeyProviderAsync(O8TestHarness o8, AsymmetricAlgorithm key, string? keyId,
        AsymmetricAlgorithm registeredKey, string registeredKeyId)
    {
        await o8.Logins.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = BareKeyProvider,
            Issuer = o8.Sandbox.IssuerString,
            ClientId = "corp-key-app",
            ClientSigningKey = key,
            ClientSigningKeyId = keyId,
        }));
        var redirectUri = await o8.Logins.GetRedirectUriAsync(BareKeyProvider);
        AsymmetricAlgorithm publicPart = registeredKey switch
        {
            ECDsa ecdsa => ECDsa.Create(ecdsa.ExportParameters(includePrivateParameters: false)),
            RSA rsa => RSA.Create(rsa.ExportParameters(includePrivateParameters: false)),
            _ => throw new ArgumentException("RSA or ECDSA only.", nameof(registeredKey)),
        };
        o8.Sandbox.RegisterClient(new SandboxClient("corp-key-app", null, [redirectUri.ToString()], ClientAuthMethod.PrivateKeyJwt)
        {
            PublicKey = publicPart,
            PublicKeyId = registeredKeyId,
        });
    }

    /// <summary>Introspects an unknown token, authenticated with <paramref name="assertion"/> (or a Basic secret); the status says whether the client was accepted.</summary>
    private static async Task<HttpStatusCode> IntrospectAsync(SandboxAuthorizationServer sandbox, string? assertion, string? basicSecret = null)
    {
        var form = new Dictionary<string, string> { ["token"] = "unknown-token" };
        if (assertion is not null)
        {
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
            form["client_assertion"] = assertion;
        }

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, sandbox.IntrospectionEndpoint) { Content = new FormUrlEncodedContent(form) };
        if (basicSecret is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{basicSecret}")));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
