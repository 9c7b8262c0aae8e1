using O8Actors.IntegrationTests.Browser;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>
/// <see cref="AuthorizationRequest.MaxAge"/> against oidc-provider in one user's Chromium: while the provider's session
/// lives a login is not asked for a password; with <c>max_age=0</c> the provider asks again, and the ID token's
/// <c>auth_time</c> (checked by O8Actors) is the new sign-in's. And <c>acr_values</c> that the provider does not honour
/// (its ID token names no authentication class) fail the login instead of passing for a strong sign-in.
/// </summary>
public sealed class MaxAgeScenarioTests(OneUserBrowserFixture fixture) : IClassFixture<OneUserBrowserFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    private async Task<(LoginSucceeded Login, LoginResult Browser)> SignInAsync(AuthorizationRequest request)
    {
        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, request).WaitAsync(Wait);
        var browser = await fixture.UserBrowser.Launches[^1].Completion.WaitAsync(Wait);
        return (Assert.IsType<LoginSucceeded>(outcome), browser);
    }

    [Fact]
    public async Task Max_age_zero_makes_the_provider_ask_again_where_its_session_would_have_signed_the_user_in()
    {
        const string user = "approve-max-age";
        await SignInAsync(FlowsFixture.Request(user));
        var (_, withSession) = await SignInAsync(FlowsFixture.Request(user));
        Assert.False(withSession.AskedToSignIn, "the provider's session signs the browser in again without a password");
        var started = DateTimeOffset.UtcNow;

        var (stepUp, stepUpBrowser) = await SignInAsync(FlowsFixture.Request(user) with { MaxAge = TimeSpan.Zero });

        Assert.True(stepUpBrowser.AskedToSignIn, "max_age=0: the provider asks for the password again");
        Assert.Contains("max_age=0", fixture.UserBrowser.Launches[^1].AuthorizeUrl.Query);
        var authTime = DateTimeOffset.FromUnixTimeSeconds(long.Parse(stepUp.Tokens.IdTokenClaims!.All.Single(c => c.Type == "auth_time").Value));
        Assert.True(authTime >= started.AddSeconds(-2), $"auth_time {authTime:O} is the new sign-in's (login started {started:O})");
    }

    [Fact]
    public async Task Acr_values_the_provider_does_not_honour_fail_the_login_and_sign_no_account_in()
    {
        // oidc-provider takes acr_values as a voluntary request: its sign-in pages set no authentication class, so its
        // ID token carries no acr. A login that asked for a strong sign-in must not pass for one (Core 3.1.3.7 item 12).
        const string user = "approve-acr";
        var request = FlowsFixture.Request(user) with { AcrValues = ["urn:o8:loa:mfa"] };

        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, request).WaitAsync(Wait);
        await fixture.UserBrowser.Launches[^1].Completion.WaitAsync(Wait);

        Assert.Contains("acr_values=urn%3Ao8%3Aloa%3Amfa", fixture.UserBrowser.Launches[^1].AuthorizeUrl.Query);
        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("(acr)", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(new OAuthAccount(FlowsFixture.ProviderName, user), await fixture.Flows.GetAccountsAsync(FlowsFixture.ProviderName).WaitAsync(Wait));
    }
}
