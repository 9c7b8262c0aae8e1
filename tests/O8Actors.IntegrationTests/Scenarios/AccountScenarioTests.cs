using System.Net;
using System.Text.Json;
using O8Actors.TestSupport;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>The flows fixture with oidc-provider issuing 5-second access tokens (rotation, revocation, introspection on).</summary>
public sealed class ShortLivedTokensFixture() : FlowsFixture(TimeSpan.FromSeconds(5));

/// <summary>
/// Accounts against a real OpenID Connect provider through real Chromium: served from the cache, refreshed silently
/// once the 5-second token is due, 100 concurrent callers make one refresh (counted by the server), a revoked refresh
/// token needs interaction, and sign-out leaves the refresh token inactive (introspection).
/// </summary>
public sealed class AccountScenarioTests(ShortLivedTokensFixture fixture) : IClassFixture<ShortLivedTokensFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private async Task<(OAuthAccount Account, TokenSet Tokens)> SignInAsync(string user)
    {
        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, FlowsFixture.Request(user)).WaitAsync(Wait);
        var succeeded = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal(new OAuthAccount(FlowsFixture.ProviderName, user), succeeded.Account);
        return (succeeded.Account!, succeeded.Tokens);
    }

    /// <summary>Waits (polling the clock, not the API) until the token is within the refresh margin of its expiry.</summary>
    private static Task DueAsync(TokenSet tokens) => Eventually.TrueAsync(
        () => DateTimeOffset.UtcNow >= tokens.ExpiresAt!.Value - TimeSpan.FromSeconds(2), "the access token is due for refresh", Wait);

    [Fact]
    public async Task A_token_is_served_from_the_cache_then_refreshed_silently_when_it_is_due()
    {
        var (account, tokens) = await SignInAsync("approve-account-cache");
        var before = fixture.Provider.Refreshes;

        var cached = await fixture.Flows.GetAccessTokenAsync(account).WaitAsync(Wait);
        Assert.Equal(tokens.AccessToken, cached.Token);
        Assert.Equal(before, fixture.Provider.Refreshes);

        await DueAsync(tokens);
        var refreshed = await fixture.Flows.GetAccessTokenAsync(account).WaitAsync(Wait);

        Assert.NotEqual(tokens.AccessToken, refreshed.Token);
        Assert.True(refreshed.ExpiresAt > DateTimeOffset.UtcNow);
        Assert.True(await fixture.Provider.IsActiveAsync(fixture.Client, refreshed.Token));
        // Rotation: the login's refresh token is spent.
        Assert.False(await fixture.Provider.IsActiveAsync(fixture.Client, tokens.RefreshToken!));
    }

    [Fact]
    public async Task Hundred_concurrent_callers_cause_one_refresh_at_the_server()
    {
        var (account, tokens) = await SignInAsync("approve-account-burst");
        await DueAsync(tokens);
        var before = fixture.Provider.Refreshes;

        var served = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => fixture.Flows.GetAccessTokenAsync(account))).WaitAsync(Wait);

        Assert.Single(served.Select(s => s.Token).Distinct());
        Assert.NotEqual(tokens.AccessToken, served[0].Token);
        Assert.Equal(before + 1, await fixture.Provider.RefreshesReportedAsync(before + 1, Wait));
    }

    [Fact]
    public async Task A_revoked_refresh_token_leads_to_InteractionRequiredException()
    {
        var (account, tokens) = await SignInAsync("approve-account-revoked");
        await fixture.Provider.RevokeAsync(fixture.Client, tokens.RefreshToken!);
        await DueAsync(tokens);

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => fixture.Flows.GetAccessTokenAsync(account).WaitAsync(Wait));

        Assert.Equal(InteractionReason.RefreshRefused, error.Reason);
        Assert.DoesNotContain(tokens.RefreshToken!, error.Message);
    }

    [Fact]
    public async Task Sign_out_makes_the_refresh_token_inactive_at_the_provider()
    {
        var (account, tokens) = await SignInAsync("approve-account-signout");
        Assert.True(await fixture.Provider.IsActiveAsync(fixture.Client, tokens.RefreshToken!));

        var result = await fixture.Flows.SignOutAsync(account).WaitAsync(Wait);

        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.False(await fixture.Provider.IsActiveAsync(fixture.Client, tokens.RefreshToken!));
        Assert.False(await fixture.Provider.IsActiveAsync(fixture.Client, tokens.AccessToken));
        Assert.DoesNotContain(account, await fixture.Flows.GetAccountsAsync(FlowsFixture.ProviderName));
    }

    [Fact]
    public async Task The_userinfo_endpoint_takes_the_accounts_bearer_token_through_AccessTokenHandler()
    {
        var (account, _) = await SignInAsync("approve-account-api");
        using var api = new HttpClient(new AccessTokenHandler(fixture.Flows, account) { InnerHandler = new HttpClientHandler() });

        using var me = await api.GetAsync(fixture.Provider.UserInfoEndpoint).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        using var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync());
        Assert.Equal("approve-account-api", body.RootElement.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task UserInfo_returns_the_claims_of_the_accounts_user_checked_against_its_ID_token()
    {
        var request = FlowsFixture.Request("approve-account-userinfo") with { Scopes = ["openid", "offline_access", "profile"] };
        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, request).WaitAsync(Wait);
        var account = Assert.IsType<LoginSucceeded>(outcome).Account!;

        var info = await fixture.Flows.GetUserInfoAsync(account).WaitAsync(Wait);

        Assert.Equal(account, info.Account);
        Assert.Equal("approve-account-userinfo", info.Subject);
        // oidc-provider's account gives its id as the name, released with the profile scope.
        Assert.Equal("approve-account-userinfo", info.Name);
        Assert.Contains(info.All, c => c.Type == "name");
    }

    [Fact]
    public async Task UserInfo_with_a_revoked_grant_tries_a_renewal_and_then_asks_for_interaction()
    {
        var (account, tokens) = await SignInAsync("approve-account-userinfo-revoked");
        // oidc-provider revokes the whole grant with its access token, so the endpoint's 401 is followed by a refresh
        // that the provider refuses too.
        await fixture.Provider.RevokeAsync(fixture.Client, tokens.AccessToken);

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => fixture.Flows.GetUserInfoAsync(account).WaitAsync(Wait));

        Assert.Equal(InteractionReason.RefreshRefused, error.Reason);
        Assert.DoesNotContain(tokens.AccessToken, error.ToString());
    }
}
