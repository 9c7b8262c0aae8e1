using O8Actors.IntegrationTests.Infrastructure;
using O8Actors.IntegrationTests.OidcServer;

namespace O8Actors.IntegrationTests.Proof;

/// <summary>The provider fixture's own behaviour: loud failures and static clients.</summary>
public sealed class OidcProviderServerTests
{
    [Fact]
    public async Task A_folder_without_node_modules_fails_loudly_with_the_npm_ci_hint()
    {
        using var empty = new TempFolder("o8-interop-oidc-");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => OidcProviderServer.StartAsync([], empty.Path));

        Assert.Contains("npm ci", error.Message);
        Assert.Contains(empty.Path, error.Message);
    }

    [Fact]
    public async Task Static_clients_are_served_and_the_issuer_carries_the_bound_port()
    {
        var client = new OidcClientRegistration("static-client", "static-secret-not-logged", ["https://localhost:1/"]);
        await using var server = await OidcProviderServer.StartAsync([client]);
        using var http = new HttpClient();

        var discovery = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"{server.IssuerString}/.well-known/openid-configuration"));
        using var unknownClient = await http.GetAsync(
            $"{server.AuthorizationEndpoint}?client_id=nobody&response_type=code&redirect_uri=https%3A%2F%2Flocalhost%3A1%2F&scope=openid");
        using var knownClient = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }).GetAsync(
            $"{server.AuthorizationEndpoint}?client_id=static-client&response_type=code&redirect_uri=https%3A%2F%2Flocalhost%3A1%2F&scope=openid&state=s");

        Assert.NotEqual(0, server.Issuer.Port);
        Assert.Equal(server.IssuerString, discovery.RootElement.GetProperty("issuer").GetString());
        Assert.True(discovery.RootElement.GetProperty("authorization_response_iss_parameter_supported").GetBoolean());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, unknownClient.StatusCode);
        // A known client without PKCE is sent back to its redirect URI with an error, not shown an error page.
        Assert.StartsWith("https://localhost:1/?error=invalid_request", knownClient.Headers.Location?.ToString());
        Assert.DoesNotContain("static-secret-not-logged", client.ToString());
    }
}
