using Microsoft.Playwright;
using O8Actors.Browser;
using O8Actors.IntegrationTests.Browser;
using O8Actors.TestKit;
using LoginScript = O8Actors.TestKit.LoginScript;

namespace O8Actors.IntegrationTests.Sandbox;

/// <summary>
/// The TestKit sandbox's consent page, in the browser a person uses (headless Chromium): its Approve and Deny buttons post
/// a form whose answer redirects to the listener, on another port. Chromium holds that redirect to the page's
/// <c>form-action</c>, so a page that allowed only itself stopped the browser there and the login never got its callback
/// (the TestKit's own tests post the form with an HttpClient, which ignores the policy).
/// </summary>
public sealed class SandboxConsentPageInChromiumTests
{
    private static readonly TimeSpan LoginTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("approve")]
    [InlineData("deny")]
    public async Task A_person_who_decides_on_the_consent_page_reaches_the_listener(string decision)
    {
        await using var chromium = await ChromiumBrowser.LaunchAsync();
        var context = await chromium.NewIsolatedContextAsync();
        var person = new ClickingPerson(context, decision);
        await using var harness = await O8TestHarness.StartAsync(o =>
        {
            o.PlainHttp = true;
            o.Browser = person;
        });

        var result = await harness.RunAsync(LoginScript.Consent, LoginTimeout);

        Assert.Equal(decision == "approve" ? LoginOutcomeKind.Succeeded : LoginOutcomeKind.Denied, result.Outcome.Kind);
        // The browser landed on the listener's page, not on a page blocked at the sandbox.
        var listener = (await harness.Logins.GetRedirectUriAsync()).GetLeftPart(UriPartial.Authority);
        Assert.StartsWith(listener, await person.LandedAt.Task, StringComparison.Ordinal);
    }

    /// <summary>A person at the browser: opens the authorize URL and clicks one of the consent page's buttons.</summary>
    private sealed class ClickingPerson(IBrowserContext context, string decision) : IBrowserLauncher
    {
        public TaskCompletionSource<string> LandedAt { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    var page = await context.NewPageAsync();
                    await page.GotoAsync(authorizeUrl.AbsoluteUri);
                    await page.Locator($"button[value={decision}]").ClickAsync();
                    await page.WaitForURLAsync(url => !url.StartsWith(authorizeUrl.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal),
                        new PageWaitForURLOptions { Timeout = (float)LoginTimeout.TotalMilliseconds });
                    LandedAt.TrySetResult(page.Url);
                }
                catch (Exception e)
                {
                    LandedAt.TrySetException(e);
                }
            }, cancellationToken);
            return Task.FromResult(BrowserLaunchResult.Opened("chromium (a person clicking the consent page)"));
        }
    }
}
