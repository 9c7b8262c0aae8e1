using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.JsonWebTokens;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// What a client assertion (<c>private_key_jwt</c>) carries as its audience and key id, as the app configured them.
/// Servers differ on the audience (the issuer, the token endpoint, or the endpoint each request goes to: Okta refuses
/// any other with invalid_client), and the issuer was the only choice an app had: every login failed there after the
/// user approved it.
/// </summary>
public sealed class ClientAssertionAudienceTests : IAsyncLifetime
{
    private const string Issuer = "https://issuer.example.test";
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", """{"access_token":"at-1","token_type":"Bearer"}""");
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private GenericOAuthOptions PrivateKeyJwt(ECDsa key, ClientAssertionAudience? audience)
    {
        var options = Options(_server.Url("/token"), ClientAuthentication.PrivateKeyJwt);
        options.ClientSecret = null;
        options.ClientSigningKey = key;
        options.Issuer = Issuer;
        options.RevocationEndpoint = _server.Url("/revoke");
        options.ClientAssertionAudience = audience;
        return options;
    }

    private IReadOnlyList<IEnumerable<string>> AudiencesSent() =>
        _server.Requests.Select(r => new JsonWebToken(r.Form["client_assertion"]).Audiences).ToList();

    [Theory]
    [InlineData(null, Issuer, Issuer)]
    [InlineData(ClientAssertionAudience.Issuer, Issuer, Issuer)]
    [InlineData(ClientAssertionAudience.TokenEndpoint, "/token", "/token")]
    [InlineData(ClientAssertionAudience.EndpointCalled, "/token", "/revoke")]
    public async Task The_assertions_audience_is_the_one_the_app_chose_on_every_request(ClientAssertionAudience? audience, string atToken, string atRevocation)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strategy = new GenericOAuthStrategy(PrivateKeyJwt(key, audience));

        await strategy.ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);
        await strategy.RevokeAsync(new RevocationContext("refresh-1", "refresh_token"), _http, CancellationToken.None);

        string Expected(string value) => value.StartsWith('/') ? _server.Url(value).AbsoluteUri : value;
        Assert.Equal([[Expected(atToken)], [Expected(atRevocation)]], AudiencesSent());
    }

    [Fact]
    public void The_apps_choice_of_audience_is_kept_in_the_copies_the_strategies_take()
    {
        Assert.Equal(ClientAssertionAudience.EndpointCalled,
            new OidcDiscoveryOptions { ClientAssertionAudience = ClientAssertionAudience.EndpointCalled }.Clone().ClientAssertionAudience);
        Assert.Equal(ClientAssertionAudience.TokenEndpoint,
            new GenericOAuthOptions { ClientAssertionAudience = ClientAssertionAudience.TokenEndpoint }.Clone().ClientAssertionAudience);
    }

    [Fact]
    public void An_audience_outside_the_known_ones_is_refused_when_the_options_are_checked()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = PrivateKeyJwt(key, (ClientAssertionAudience)3);

        var refused = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(GenericOAuthOptions.ClientAssertionAudience), refused.ParamName);
        Assert.Throws<ArgumentException>(new OidcDiscoveryOptions
        {
            Issuer = "https://issuer.example.test", ClientId = "client-1", ClientSigningKey = key, ClientAssertionAudience = (ClientAssertionAudience)7,
        }.Validate);
    }

    /// <summary>
    /// A certificate's key registered at the provider under a key id of the app's own: the assertions carried the
    /// certificate's thumbprint as kid, whatever ClientSigningKeyId said, and a server that picks the key by kid refused them.
    /// </summary>
    [Fact]
    public async Task A_certificates_assertions_carry_the_key_id_the_app_gave()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=client-1", ecdsa, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var options = PrivateKeyJwt(ecdsa, null);
        options.ClientSigningKey = null;
        options.ClientCertificate = certificate;
        options.ClientSigningKeyId = "app-2026";

        await new GenericOAuthStrategy(options).ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        var assertion = new JsonWebToken(Assert.Single(_server.Requests).Form["client_assertion"]);
        Assert.Equal("app-2026", assertion.Kid);
        Assert.Equal(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(certificate.GetCertHash(HashAlgorithmName.SHA256)),
            assertion.GetHeaderValue<string>("x5t#S256"));
    }
}
