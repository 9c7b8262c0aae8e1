using Duende.IdentityModel.Client;
using O8Actors.IntegrationTests.Browser;
using O8Actors.IntegrationTests.Https;
using O8Actors.IntegrationTests.OidcServer;

namespace O8Actors.IntegrationTests.Proof;

/// <summary>
/// Proves the harness before the orchestrator uses it: real Chromium signs in at a real oidc-provider and is
/// redirected to a real Kestrel HTTPS listener with a real mkcert certificate; the provider requires PKCE, sends
/// <c>iss</c> (RFC 9207) and issues refresh tokens.
/// </summary>
public sealed class HarnessProofTests(InteropFixture fixture) : IClassFixture<InteropFixture>
{
    private static readonly TimeSpan RedirectWait = TimeSpan.FromSeconds(120); // an upper bound for loaded CI machines; a normal run needs a few seconds

    [Fact]
    public async Task Approve_lands_on_the_https_listener_with_code_state_and_iss_and_the_code_yields_all_three_tokens()
    {
        var client = await fixture.RegisterClientAsync();
        var request = AuthorizeRequest.Create(fixture.Provider, client);
        await using var driver = new ChromiumLoginDriver(fixture.Chromium);

        var result = await driver.RunAsync(request.Url, LoginScript.Approve);

        Assert.True(result.LandedOk, $"browser did not land: {result}");
        Assert.Equal(RedirectCaptureServer.LandingText, result.Text?.Trim());
        Assert.Equal(fixture.Listener.RedirectUri.ToString(), result.FinalUrl);
        var redirect = await fixture.Listener.WaitForStateAsync(request.State, RedirectWait);
        Assert.False(string.IsNullOrEmpty(redirect.Code));
        Assert.Equal(request.State, redirect.State);
        Assert.Equal(fixture.Provider.IssuerString, redirect.Iss);
        Assert.Null(redirect.Error);

        using var http = new HttpClient();
        var tokens = await http.RequestAuthorizationCodeTokenAsync(new AuthorizationCodeTokenRequest
        {
            Address = fixture.Provider.TokenEndpoint.ToString(),
            ClientId = client.ClientId,
            ClientSecret = client.ClientSecret,
            ClientCredentialStyle = ClientCredentialStyle.AuthorizationHeader,
            Code = redirect.Code!,
            RedirectUri = client.RedirectUri.ToString(),
            CodeVerifier = request.CodeVerifier,
        });

        Assert.False(tokens.IsError, $"token request failed: {tokens.Error} {tokens.ErrorDescription}");
        Assert.False(string.IsNullOrEmpty(tokens.AccessToken));
        Assert.False(string.IsNullOrEmpty(tokens.RefreshToken));
        Assert.False(string.IsNullOrEmpty(tokens.IdentityToken));
        // The provider's pages import a web font; the context's route must have stopped it at the door.
        Assert.True(fixture.Chromium.BlockedRequests > 0, "no request to a non-loopback host was blocked");
    }

    [Fact]
    public async Task The_refresh_token_is_accepted_and_rotated()
    {
        var client = await fixture.RegisterClientAsync(tokenEndpointAuthMethod: "client_secret_post");
        var request = AuthorizeRequest.Create(fixture.Provider, client);
        await using var driver = new ChromiumLoginDriver(fixture.Chromium);
        Assert.True((await driver.RunAsync(request.Url, LoginScript.Approve)).LandedOk);
        var redirect = await fixture.Listener.WaitForStateAsync(request.State, RedirectWait);
        using var http = new HttpClient();
        var first = await http.RequestAuthorizationCodeTokenAsync(new AuthorizationCodeTokenRequest
        {
            Address = fixture.Provider.TokenEndpoint.ToString(),
            ClientId = client.ClientId,
            ClientSecret = client.ClientSecret,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            Code = redirect.Code!,
            RedirectUri = client.RedirectUri.ToString(),
            CodeVerifier = request.CodeVerifier,
        });
        Assert.False(first.IsError, $"token request failed: {first.Error} {first.ErrorDescription}");

        var refreshed = await http.RequestRefreshTokenAsync(new RefreshTokenRequest
        {
            Address = fixture.Provider.TokenEndpoint.ToString(),
            ClientId = client.ClientId,
            ClientSecret = client.ClientSecret,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            RefreshToken = first.RefreshToken!,
        });

        Assert.False(refreshed.IsError, $"refresh failed: {refreshed.Error} {refreshed.ErrorDescription}");
        Assert.NotEqual(first.AccessToken, refreshed.AccessToken);
        Assert.False(string.IsNullOrEmpty(refreshed.RefreshToken));
        Assert.NotEqual(first.RefreshToken, refreshed.RefreshToken);
    }

    [Theory]
    [InlineData(LoginScript.CancelAtLogin)]
    [InlineData(LoginScript.CancelAtConsent)]
    public async Task Cancelling_redirects_with_access_denied_state_and_iss(LoginScript script)
    {
        var client = await fixture.RegisterClientAsync();
        var request = AuthorizeRequest.Create(fixture.Provider, client);
        await using var driver = new ChromiumLoginDriver(fixture.Chromium);

        var result = await driver.RunAsync(request.Url, script);

        Assert.True(result.LandedOk, $"browser did not land: {result}");
        var redirect = await fixture.Listener.WaitForStateAsync(request.State, RedirectWait);
        Assert.Equal("access_denied", redirect.Error);
        Assert.Null(redirect.Code);
        Assert.Equal(fixture.Provider.IssuerString, redirect.Iss);
    }

    [Fact]
    public async Task A_request_without_pkce_is_refused_by_the_provider()
    {
        var client = await fixture.RegisterClientAsync();
        var request = AuthorizeRequest.Create(fixture.Provider, client, pkce: false);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        using var response = await http.GetAsync(request.Url);

        var location = response.Headers.Location;
        Assert.NotNull(location);
        Assert.Equal(client.RedirectUri.GetLeftPart(UriPartial.Path), location.GetLeftPart(UriPartial.Path));
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(location.Query);
        Assert.Equal("invalid_request", query["error"].ToString());
        Assert.Contains("PKCE", query["error_description"].ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_driver_as_browser_launcher_reports_opened_at_once_and_records_the_login()
    {
        var client = await fixture.RegisterClientAsync();
        var request = AuthorizeRequest.Create(fixture.Provider, client);
        await using var driver = new ChromiumLoginDriver(fixture.Chromium, _ => LoginScript.CancelAtConsent);

        var launched = await driver.LaunchAsync(request.Url, CancellationToken.None);

        Assert.True(launched.Launched);
        Assert.Equal("chromium", launched.Detail);
        var results = await driver.WaitForLaunchedLoginsAsync(1, RedirectWait);
        Assert.Equal(LoginScript.CancelAtConsent, Assert.Single(results).Script);
        Assert.True(results[0].LandedOk, $"browser did not land: {results[0]}");
        Assert.Equal(request.Url, Assert.Single(driver.Launches).AuthorizeUrl);
        Assert.Equal("access_denied", (await fixture.Listener.WaitForStateAsync(request.State, RedirectWait)).Error);
    }

    [Fact]
    public async Task Abandon_stops_at_the_sign_in_page_and_nothing_reaches_the_listener()
    {
        var client = await fixture.RegisterClientAsync();
        var request = AuthorizeRequest.Create(fixture.Provider, client);
        await using var driver = new ChromiumLoginDriver(fixture.Chromium);

        var result = await driver.RunAsync(request.Url, LoginScript.Abandon);

        Assert.False(result.Landed);
        Assert.Null(result.Error);
        Assert.StartsWith(fixture.Provider.IssuerString + "/interaction/", result.FinalUrl);
        Assert.DoesNotContain(fixture.Listener.Received, r => r.State == request.State);
    }
}
