using O8Actors.IntegrationTests.OidcServer;
using O8Actors.Providers;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>oidc-provider with a client registered for <c>private_key_jwt</c> (its public key, no secret).</summary>
public sealed class PrivateKeyJwtFlowsFixture : FlowsFixture
{
    /// <inheritdoc />
    protected override bool UsePrivateKeyJwt => true;
}

/// <summary>
/// RFC 7523 client authentication against a real provider, through real Chromium: oidc-provider checks every assertion
/// O8Actors signs (signature by the registered key, <c>iss</c>/<c>sub</c>, <c>aud</c>, <c>exp</c>, a <c>jti</c> it has not
/// seen), for the code exchange and for a refresh; with a certificate's key and with a bare key registered as a JWK.
/// </summary>
public sealed class PrivateKeyJwtScenarioTests(PrivateKeyJwtFlowsFixture fixture) : IClassFixture<PrivateKeyJwtFlowsFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_login_and_a_refresh_authenticate_with_assertions_signed_by_the_clients_key()
    {
        Assert.Equal("private_key_jwt", fixture.Client.TokenEndpointAuthMethod);
        Assert.Equal("", fixture.Client.ClientSecret); // the provider gave no secret: only the key proves the client

        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, FlowsFixture.Request("approve-private-key-jwt")).WaitAsync(Wait);
        var signedIn = Assert.IsType<LoginSucceeded>(outcome);
        var refreshesBefore = fixture.Provider.Refreshes;
        var renewed = await fixture.Flows.GetAccessTokenAsync(signedIn.Account!, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);

        Assert.NotEqual(signedIn.Tokens.AccessToken, renewed.Token);
        Assert.Equal(refreshesBefore + 1, await fixture.Provider.RefreshesReportedAsync(refreshesBefore + 1, Wait));
    }

    [Fact]
    public async Task A_client_registered_with_a_bare_RSA_key_signs_in_with_assertions_named_by_its_key_id()
    {
        // A second client at the same provider, registered with a public JWK and no certificate (as at Okta or Auth0),
        // and a second O8Actors provider for it; oidc-provider picks the key by the assertions' kid.
        const string name = "oidc-provider-rsa-key";
        const string keyId = "o8-interop-rsa-2026-12";
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var listener = await fixture.Flows.GetRedirectUriAsync();
        var client = await fixture.Provider.RegisterClientAsync(new Uri(listener, "/" + name), "private_key_jwt",
            publicKey: ClientKeys.PublicJwk(key, keyId));
        await fixture.Flows.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = name,
            Issuer = fixture.Provider.IssuerString,
            ClientId = client.ClientId,
            ClientSigningKey = key,
            ClientSigningKeyId = keyId,
            DefaultScopes = ["openid"],
        }));

        var outcome = await fixture.Flows.RunAsync(name, FlowsFixture.Request("approve-bare-rsa-key")).WaitAsync(Wait);

        var signedIn = Assert.IsType<LoginSucceeded>(outcome);
        Assert.NotEmpty(signedIn.Tokens.AccessToken);
        Assert.NotNull(signedIn.Tokens.IdToken);
    }
}
