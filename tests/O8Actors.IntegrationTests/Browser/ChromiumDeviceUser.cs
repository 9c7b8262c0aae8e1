using Microsoft.Playwright;

namespace O8Actors.IntegrationTests.Browser;

/// <summary>
/// A person with a phone or another computer, in headless Chromium at oidc-provider's device pages (RFC 8628): opens the
/// verification URI, types the user code, then approves (signs in and consents) or aborts at the confirmation page.
/// </summary>
public static class ChromiumDeviceUser
{
    /// <summary>What the page said at the end: oidc-provider's "Sign-in Success" page, or its "interrupted" notice after an abort.</summary>
    /// <param name="browser">The browser.</param>
    /// <param name="verificationUri">The <c>verification_uri</c> (without the code: the user types it).</param>
    /// <param name="userCode">The code the login showed.</param>
    /// <param name="approve">Approve (true) or abort (false).</param>
    /// <param name="username">Who signs in.</param>
    /// <param name="timeout">How long one page step may take.</param>
    public static async Task<string> EnterCodeAsync(ChromiumBrowser browser, Uri verificationUri, string userCode, bool approve, string username,
        TimeSpan timeout)
    {
        await using var context = await browser.NewIsolatedContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout((float)timeout.TotalMilliseconds);
        page.SetDefaultNavigationTimeout((float)timeout.TotalMilliseconds);

        await page.GotoAsync(verificationUri.ToString());
        await page.Locator("input[name=user_code]").FillAsync(userCode);
        // Each click submits a form; the next step's locator waits for the page it leads to.
        await page.Locator("button[form='op.deviceInputForm']").ClickAsync();
        await page.Locator("button[form='op.deviceConfirmForm'][autofocus]").WaitForAsync(); // the confirmation page

        if (!approve)
        {
            await page.Locator("button[name=abort]").ClickAsync();
            await page.GetByText("interrupted").WaitForAsync();
            return await page.Locator("body").InnerTextAsync();
        }

        await page.Locator("button[form='op.deviceConfirmForm'][autofocus]").ClickAsync();
        await page.Locator("input[name=login]").FillAsync(username);
        await page.Locator("input[name=password]").FillAsync("any-password");
        await page.Locator("button[type=submit]").ClickAsync();
        // The consent page comes next (a first sign-in of this user with this client).
        var success = page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Sign-in Success" });
        var consent = page.Locator("input[name=prompt][value=consent]");
        await success.Or(consent).First.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        if (await consent.CountAsync() > 0) await page.Locator("button[type=submit]").ClickAsync();
        await success.WaitForAsync();
        return await page.Locator("body").InnerTextAsync();
    }
}
