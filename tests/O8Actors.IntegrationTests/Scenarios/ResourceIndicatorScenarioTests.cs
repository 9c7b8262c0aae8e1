using Microsoft.IdentityModel.JsonWebTokens;
using O8Actors.Providers;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>oidc-provider with its own fixture, for the resource indicator tests' extra providers.</summary>
public sealed class ResourceIndicatorFlowsFixture() : FlowsFixture(null);

/// <summary>
/// Audience-restricted tokens (RFC 8707) against a real provider, through real Chromium: oidc-provider issues a JWT
/// access token whose <c>aud</c> is the resource for the login and again for each refresh (where a refresh without the
/// resource would get a token for userinfo instead), and refuses a resource it does not serve.
/// </summary>
public sealed class ResourceIndicatorScenarioTests(ResourceIndicatorFlowsFixture fixture) : IClassFixture<ResourceIndicatorFlowsFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_login_and_every_refresh_get_access_tokens_for_the_providers_resource_alone()
    {
        const string api = "https://api.o8-interop.example/orders";
        await RegisterProviderAsync("oidc-provider-orders", api);

        var outcome = await fixture.Flows.RunAsync("oidc-provider-orders", FlowsFixture.Request("approve-resource")).WaitAsync(Wait);
        var signedIn = Assert.IsType<LoginSucceeded>(outcome);
        var renewed = await fixture.Flows.GetAccessTokenAsync(signedIn.Account!, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);

        Assert.Equal([api], new JsonWebToken(signedIn.Tokens.AccessToken).Audiences);
        Assert.NotEqual(signedIn.Tokens.AccessToken, renewed.Token);
        Assert.Equal([api], new JsonWebToken(renewed.Token).Audiences);
        Assert.Contains("api:read", new JsonWebToken(renewed.Token).GetClaim("scope").Value.Split(' '));
    }

    [Fact]
    public async Task A_resource_the_provider_does_not_serve_ends_the_login_with_invalid_target()
    {
        await RegisterProviderAsync("oidc-provider-elsewhere", "https://api.elsewhere.example/");

        var outcome = await fixture.Flows.RunAsync("oidc-provider-elsewhere", FlowsFixture.Request("approve-unknown-resource")).WaitAsync(Wait);

        var denied = Assert.IsType<LoginDenied>(outcome);
        Assert.Equal("invalid_target", denied.Error);
    }

    /// <summary>A client of its own at oidc-provider, and an O8Actors provider for it with <paramref name="resource"/>.</summary>
    private async Task RegisterProviderAsync(string name, string resource)
    {
        var listener = await fixture.Flows.GetRedirectUriAsync();
        var client = await fixture.Provider.RegisterClientAsync(new Uri(listener, "/" + name));
        await fixture.Flows.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = name,
            Issuer = fixture.Provider.IssuerString,
            ClientId = client.ClientId,
            ClientSecret = client.ClientSecret,
            Resource = new Uri(resource),
            DefaultScopes = ["openid", "api:read"],
        }));
    }
}
