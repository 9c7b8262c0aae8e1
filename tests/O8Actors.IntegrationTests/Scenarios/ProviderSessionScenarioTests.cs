using O8Actors.IntegrationTests.Browser;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>The flows fixture with one user's Chromium: every login and sign-out in one browser context.</summary>
public sealed class OneUserBrowserFixture : FlowsFixture
{
    /// <summary>The user's browser, O8Actors' launcher here.</summary>
    public ChromiumUserBrowser UserBrowser { get; private set; } = null!;

    /// <inheritdoc />
    protected override async Task<O8Actors.Browser.IBrowserLauncher> CreateLauncherAsync(ChromiumLoginDriver driver)
    {
        UserBrowser = new ChromiumUserBrowser(driver, await Chromium.NewIsolatedContextAsync());
        return UserBrowser;
    }
}

/// <summary>
/// Signing out of the provider too (OpenID Connect RP-Initiated Logout 1.0) against oidc-provider through real
/// Chromium: while the provider's session lives, a new login in the same browser is not asked for a password; a
/// sign-out that ends it sends the browser through the provider's end-session page and back to the listener, and the
/// next login is asked to sign in again.
/// </summary>
public sealed class ProviderSessionScenarioTests(OneUserBrowserFixture fixture) : IClassFixture<OneUserBrowserFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    private async Task<(LoginSucceeded Login, LoginResult Browser)> SignInAsync(string user)
    {
        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, FlowsFixture.Request(user)).WaitAsync(Wait);
        var browser = await fixture.UserBrowser.Launches[^1].Completion.WaitAsync(Wait);
        return (Assert.IsType<LoginSucceeded>(outcome), browser);
    }

    [Fact]
    public async Task Ending_the_provider_session_on_sign_out_makes_the_next_login_in_that_browser_ask_to_sign_in()
    {
        const string user = "approve-provider-session";
        var (_, firstBrowser) = await SignInAsync(user);
        Assert.True(firstBrowser.AskedToSignIn, "a fresh browser signs in");

        // What a local sign-out leaves behind: the provider's session, which signs the next login in without asking.
        var (second, secondBrowser) = await SignInAsync(user);
        Assert.False(secondBrowser.AskedToSignIn, "the provider's session signs the same browser in again without a password");

        var result = await fixture.Flows.SignOutAsync(second.Account!, SignOutOptions.EndingProviderSession).WaitAsync(Wait);

        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.True(result.ProviderSession == ProviderSessionOutcome.Ended, $"{result.ProviderSession}: {result.ProviderSessionReason}");
        var signOut = fixture.UserBrowser.Launches[^1];
        Assert.Equal(LoginScript.ConfirmSignOut, signOut.Script);
        var signOutBrowser = await signOut.Completion.WaitAsync(Wait);
        Assert.True(signOutBrowser.LandedOk, signOutBrowser.ToString());
        Assert.Equal(fixture.RedirectUri.ToString(), signOutBrowser.FinalUrl);
        Assert.Contains("You are signed out", signOutBrowser.Text);
        Assert.False(await fixture.Provider.IsActiveAsync(fixture.Client, second.Tokens.RefreshToken!));

        var (_, thirdBrowser) = await SignInAsync(user);
        Assert.True(thirdBrowser.AskedToSignIn, "after the provider's session ended, the browser must sign in again");
    }
}
