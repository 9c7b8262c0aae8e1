using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>
/// The original's subclass, ported line by line, against a real provider that supports PKCE (oidc-provider): its token
/// POST never sends <c>code_verifier</c>, the provider refuses the code, and the error names the fix.
/// </summary>
public sealed class LiteralPortTests(FlowsFixture fixture) : IClassFixture<FlowsFixture>
{
    /// <summary>Written as the Python original's example is: the URL by hand, the exchange by hand, no PKCE anywhere.</summary>
    private class LiteralPortFlow(FlowsFixture fixture, string loginHint)
        : OAuthFlow(fixture.Client.ClientId, fixture.Client.ClientSecret, "openid", logins: fixture.Flows)
    {
        protected override string AuthUrl =>
            $"{fixture.Provider.AuthorizationEndpoint}?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}&response_type=code" +
            $"&scope={Uri.EscapeDataString(UserScopes)}&login_hint={loginHint}";

        protected override async Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken)
        {
            var form = new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUrl };
            using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Provider.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(ClientId)}:{Uri.EscapeDataString(ClientSecret)}")));
            using var response = await context.Http.SendAsync(request, cancellationToken);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"Failed to obtain access token: {json.RootElement.GetProperty("error").GetString()}");
            return json.RootElement.GetProperty("access_token").GetString()!;
        }
    }

    /// <summary>The same port after the first fix the errors name: it says which issuer its provider is.</summary>
    private sealed class LiteralPortWithIssuerFlow(FlowsFixture fixture, string loginHint, string issuer) : LiteralPortFlow(fixture, loginHint)
    {
        protected override string? Issuer => issuer;
    }

    [Fact]
    public async Task A_literal_port_against_a_provider_that_sends_iss_fails_with_a_message_that_names_its_Issuer()
    {
        var flow = new LiteralPortFlow(fixture, "approve-literal-port-iss");

        var failed = await Assert.ThrowsAsync<IssuerMismatchException>(() => flow.AuthorizeAsync(120));

        Assert.Contains("override Issuer", failed.Message);
    }

    [Fact]
    public async Task A_literal_port_fails_with_a_message_that_names_the_missing_code_verifier()
    {
        var flow = new LiteralPortWithIssuerFlow(fixture, "approve-literal-port", fixture.Provider.IssuerString);

        var failed = await Assert.ThrowsAsync<TokenExchangeException>(() => flow.AuthorizeAsync(120));

        Assert.Contains("never read the PKCE verifier", failed.Message);
        Assert.Contains("send context.CodeVerifier as code_verifier", failed.Message);
        var browser = await fixture.BrowserResultAsync("approve-literal-port");
        Assert.True(browser.Landed, $"browser: {browser}");
        Assert.Equal(502, browser.Status); // the listener's page for a failed exchange
    }
}
