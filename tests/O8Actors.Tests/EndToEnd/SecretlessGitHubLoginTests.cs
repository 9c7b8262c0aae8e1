using System.Collections.Concurrent;
using O8Actors.Providers;
using O8Actors.Tests.Flows;
using O8Actors.Tests.Lifecycle;
using O8Actors.TestSupport;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.EndToEnd;

/// <summary>
/// A GitHub provider without its client secret is a public client for device logins: GitHub refuses a browser login's
/// code without the secret, so such a login is refused at its start, before any browser opens, instead of after the user
/// approved it. With the secret the same preset opens the browser as before.
/// </summary>
public sealed class SecretlessGitHubLoginTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    // Far longer than the test waits: a login that ends within Wait ended at once, not at its deadline.
    private static AuthorizationRequest Request(LoginMethod method) => new(Timeout: TimeSpan.FromMinutes(10)) { Method = method };

    [Fact]
    public async Task A_browser_login_without_the_secret_fails_at_once_naming_the_fix_and_opens_no_browser_and_with_it_opens_one()
    {
        // (An Auto login signs in with the device grant instead: GitHubPresetSandboxTests, against the sandbox.)
        const LoginMethod method = LoginMethod.Browser;
        var browser = new RecordingBrowser(); // opens nothing: a login it was asked to open waits until cancelled
        var events = new ConcurrentQueue<LoginEvent>();
        await using var logins = await LoginsTestSupport.StartAsync(browser, setup =>
        {
            setup.Providers.Add(ProviderPresets.GitHub("gh-cli"));
            setup.Providers.Add(ProviderPresets.GitHub("gh-web", ClientSecret, o => o.Name = "github-web"));
        });
        using var subscription = logins.Events.Subscribe(new LoginsTestSupport.Observer(events.Enqueue));

        var refused = await Assert.ThrowsAsync<AuthorizationFailedException>(() => logins.AuthorizeAsync("github", Request(method)).WaitAsync(Wait));

        Assert.Equal(LoginFailure.ProviderUnavailable, refused.Failure);
        Assert.Contains("'github' has no client secret", refused.Message);
        Assert.Contains("Give the provider its client secret", refused.Message);
        Assert.Contains("device login (LoginMethod.Device)", refused.Message);
        Assert.Empty(browser.Opened);
        await Eventually.TrueAsync(() => events.Any(e => e is LoginEndedEvent), "the login's end event was delivered", Wait);
        Assert.DoesNotContain(events, e => e is AuthorizeUrlReadyEvent or BrowserLaunchedEvent);
        // An outcome instead of an exception says the same.
        var failed = Assert.IsType<LoginFailed>(await logins.RunAsync("github", Request(method)).WaitAsync(Wait));
        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.Equal(refused.Message, failed.Reason);
        Assert.Empty(browser.Opened);

        // With the secret the same preset opens the browser at GitHub's authorize endpoint.
        using var cancel = new CancellationTokenSource();
        var login = logins.RunAsync("github-web", Request(method), cancel.Token);
        await Eventually.TrueAsync(() => !browser.Opened.IsEmpty, "the browser was asked to open the authorize URL", Wait);
        await cancel.CancelAsync();
        Assert.IsType<LoginCancelled>(await login.WaitAsync(Wait));
        Assert.Equal(ProviderPresets.GitHubAuthorizationEndpoint, Assert.Single(browser.Opened).GetLeftPart(UriPartial.Path));
    }

    /// <summary>
    /// A provider that asks every login for a step-up (its own <c>max_age</c>) refuses device logins, so an Auto login
    /// refused in the browser must not be sent to the device grant: it went there, was sent back, and ended with a reason
    /// that recommended the device login which had just refused it.
    /// </summary>
    [Fact]
    public async Task An_Auto_login_without_the_secret_on_a_provider_that_requires_a_step_up_fails_at_once_without_a_device_detour()
    {
        var browser = new RecordingBrowser();
        var events = new ConcurrentQueue<LoginEvent>();
        await using var logins = await LoginsTestSupport.StartAsync(browser, setup =>
            setup.Providers.Add(ProviderPresets.GitHub("gh-cli", configure: o =>
            {
                o.AuthorizeParameters["max_age"] = "0";
                // A step-up is checked on the ID token, so the provider needs a key set and an issuer.
                o.JwksUri = new Uri("https://auth.example.test/jwks");
                o.Issuer = "https://auth.example.test";
            })));
        using var subscription = logins.Events.Subscribe(new LoginsTestSupport.Observer(events.Enqueue));

        var failed = Assert.IsType<LoginFailed>(await logins.RunAsync("github", Request(LoginMethod.Auto)).WaitAsync(Wait));

        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.Contains("Give the provider its client secret", failed.Reason);
        Assert.Contains("max_age or acr_values", failed.Reason);
        Assert.DoesNotContain("LoginMethod.Device", failed.Reason);
        Assert.Empty(browser.Opened);
        // Auto chose the browser (one can open here) and never the device grant. The stream delivers the login's events in
        // order, off the caller's thread: its end event is the last.
        await Eventually.TrueAsync(() => events.Any(e => e is LoginEndedEvent && e.LoginId == failed.LoginId), "the login's end event was delivered", Wait);
        Assert.Equal([LoginMethod.Browser],
            events.OfType<LoginMethodChosenEvent>().Where(e => e.LoginId == failed.LoginId).Select(e => e.Method));
    }

    [Fact]
    public void Only_the_GitHub_preset_without_client_authentication_redeems_no_browser_login_code()
    {
        Assert.False(ProviderPresets.GitHub("gh-cli").RedeemsBrowserLoginCodes);
        Assert.True(ProviderPresets.GitHub("gh-web", ClientSecret).RedeemsBrowserLoginCodes);
        // The rule follows the options as they end up: a secret given by a configure callback allows browser logins.
        Assert.True(ProviderPresets.GitHub("gh-web", configure: o =>
        {
            o.ClientSecret = ClientSecret;
            o.ClientAuthentication = ClientAuthentication.Post;
        }).RedeemsBrowserLoginCodes);
        // Options taken from a preset keep the rule; other public clients redeem their codes with PKCE alone.
        Assert.False(new GenericOAuthStrategy(ProviderPresets.GitHubOptions("gh-cli")).RedeemsBrowserLoginCodes);
        Assert.True(ProviderPresets.Discord("discord-cli").RedeemsBrowserLoginCodes);
        Assert.True(new GenericOAuthStrategy(Options(new Uri("https://token.example.test/token"), ClientAuthentication.None)).RedeemsBrowserLoginCodes);
    }
}
