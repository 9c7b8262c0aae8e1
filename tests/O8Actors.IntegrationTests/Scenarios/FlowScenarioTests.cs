using System.Text;
using System.Text.Json;
using O8Actors.IntegrationTests.Browser;
using O8Actors.Providers;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>
/// O8Actors end to end against a real OpenID Connect provider and a real browser: the public facade, the real
/// listener, the discovery strategy, Chromium through <see cref="ChromiumLoginDriver"/>.
/// </summary>
public sealed class FlowScenarioTests(FlowsFixture fixture) : IClassFixture<FlowsFixture>
{
    [Fact]
    public async Task Approve_returns_access_refresh_and_id_tokens_and_the_refresh_token_works_through_the_api()
    {
        var tokens = await fixture.Flows.AuthorizeAsync(FlowsFixture.ProviderName, FlowsFixture.Request("approve-single"));

        Assert.False(string.IsNullOrEmpty(tokens.AccessToken));
        Assert.True(tokens.CanRefresh);
        Assert.False(string.IsNullOrEmpty(tokens.IdToken));
        Assert.Equal("approve-single", Subject(tokens.IdToken!));
        // The ID token passed validation: oidc-provider's RS256 signature against its JWKS, iss, aud, exp/iat, nonce.
        Assert.Equal("RS256", Header(tokens.IdToken!).GetProperty("alg").GetString());
        Assert.Equal("approve-single", tokens.IdTokenClaims?.Subject);
        Assert.Equal(fixture.Provider.IssuerString, tokens.IdTokenClaims!.Issuer);
        Assert.Contains(fixture.Client.ClientId, tokens.IdTokenClaims.Audiences);
        Assert.False(string.IsNullOrEmpty(tokens.IdTokenClaims.All.Single(c => c.Type == "nonce").Value));
        var browser = await fixture.BrowserResultAsync("approve-single");
        Assert.True(browser.LandedOk, $"browser: {browser}");
        Assert.StartsWith(fixture.RedirectUri.GetLeftPart(UriPartial.Authority), browser.FinalUrl);

        var refreshed = await fixture.Flows.RefreshAsync(FlowsFixture.ProviderName, tokens.RefreshToken!);

        Assert.False(string.IsNullOrEmpty(refreshed.AccessToken));
        Assert.NotEqual(tokens.AccessToken, refreshed.AccessToken);
        // The provider rotates refresh tokens on every use; the new one must come back to the caller.
        Assert.True(refreshed.CanRefresh);
        Assert.NotEqual(tokens.RefreshToken, refreshed.RefreshToken);
        // An ID token on the refresh answer is validated too (without a nonce, OpenID Connect Core 1.0 section 12.2).
        if (refreshed.IdToken is not null)
            Assert.Equal("approve-single", refreshed.IdTokenClaims?.Subject);
        var spent = await Assert.ThrowsAsync<TokenExchangeException>(
            () => fixture.Flows.RefreshAsync(FlowsFixture.ProviderName, tokens.RefreshToken!));
        Assert.Equal("invalid_grant", spent.ProviderError);
    }

    [Theory]
    [InlineData("cancelatlogin-1")]
    [InlineData("cancelatconsent-1")]
    public async Task Cancelling_at_the_provider_throws_denied_with_the_providers_error(string hint)
    {
        var outcome = await Record.ExceptionAsync(() => fixture.Flows.AuthorizeAsync(FlowsFixture.ProviderName, FlowsFixture.Request(hint)));

        if (outcome is not AuthorizationDeniedException denied)
        {
            Assert.Fail($"expected AuthorizationDeniedException, got {outcome?.GetType().Name}: {outcome?.Message}\nbrowser: {await fixture.DescribeBrowserAsync([hint])}");
            return;
        }

        Assert.Equal("access_denied", denied.Error);
        Assert.Equal("End-User aborted interaction", denied.ErrorDescription);
        var browser = await fixture.BrowserResultAsync(hint);
        Assert.True(browser.Landed, $"browser: {browser}");
    }

    [Fact]
    public async Task A_user_who_never_returns_times_out()
    {
        var timeout = TimeSpan.FromSeconds(4);

        var error = await Assert.ThrowsAsync<AuthorizationTimeoutException>(
            () => fixture.Flows.AuthorizeAsync(FlowsFixture.ProviderName, FlowsFixture.Request("abandon-1", timeout)));

        Assert.Equal(timeout, error.Timeout);
        var browser = await fixture.BrowserResultAsync("abandon-1");
        Assert.False(browser.Landed);
    }

    [Fact]
    public async Task Ten_concurrent_logins_in_separate_browser_contexts_each_get_their_own_tokens()
    {
        var hints = Enumerable.Range(1, 10).Select(i => $"approve-parallel-{i}").ToArray();

        // Ten browser contexts at once are CPU-bound on a two-core CI machine (about 40 s there): a wide deadline.
        var outcomes = await Task.WhenAll(hints.Select(h =>
            fixture.Flows.RunAsync(FlowsFixture.ProviderName, FlowsFixture.Request(h, TimeSpan.FromSeconds(240)))));

        if (!outcomes.All(o => o is LoginSucceeded))
            Assert.Fail($"outcomes: {string.Join(", ", outcomes.Select(o => o.Kind))}\nbrowser:\n{await fixture.DescribeBrowserAsync(hints)}");
        var tokens = outcomes.Cast<LoginSucceeded>().Select(o => o.Tokens).ToArray();
        Assert.Equal(hints.Length, tokens.Select(t => t.AccessToken).Distinct().Count());
        Assert.Equal(hints.Length, tokens.Select(t => t.RefreshToken).Distinct().Count());
        // Each caller got the tokens of its own login: the ID token names the user its browser signed in as.
        Assert.Equal(hints, tokens.Select(t => Subject(t.IdToken!)));
    }

    [Fact]
    public async Task A_wrong_configured_issuer_gets_the_callback_rejected()
    {
        const string name = "oidc-provider-wrong-issuer";
        await fixture.Flows.RegisterProviderAsync(new GenericOAuthStrategy(new GenericOAuthOptions
        {
            Name = name,
            AuthorizationEndpoint = fixture.Provider.AuthorizationEndpoint,
            TokenEndpoint = fixture.Provider.TokenEndpoint,
            ClientId = fixture.Client.ClientId,
            ClientSecret = fixture.Client.ClientSecret,
            DefaultScopes = ["openid"],
            Issuer = "http://127.0.0.1:1", // not the provider that will answer
            IssuerParameterSupported = true,
            RedirectPath = FlowsFixture.RedirectPath, // the client's registered redirect URI (shared: only iss tells them apart)
        }));

        var error = await Assert.ThrowsAsync<IssuerMismatchException>(
            () => fixture.Flows.AuthorizeAsync(name, FlowsFixture.Request("approve-wrong-issuer")));

        Assert.Contains(fixture.Provider.IssuerString, error.Message);
        var browser = await fixture.BrowserResultAsync("approve-wrong-issuer");
        Assert.True(browser.Landed, $"browser: {browser}");
        Assert.Equal(400, browser.Status);
    }

    /// <summary>The <c>sub</c> claim of an ID token (the signature was the provider's business; here only the payload matters).</summary>
    private static string Subject(string idToken) => Part(idToken, 1).GetProperty("sub").GetString()!;

    private static JsonElement Header(string idToken) => Part(idToken, 0);

    private static JsonElement Part(string idToken, int index)
    {
        var payload = idToken.Split('.')[index].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
        return json.RootElement.Clone();
    }
}
