using System.Net;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// A provider whose name needs escaping in its redirect path (<c>/Azure%20AD</c>), through the real HTTPS listener:
/// Kestrel hands the listener the decoded path (<c>/Azure AD</c>), which the login and the sign-out must take for
/// their own (they compared it with the URI's escaped path and refused every callback as RedirectMismatch).
/// </summary>
public sealed class EscapedRedirectPathTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("Azure AD")]
    [InlineData("Zürich 東京")]
    [InlineData("entra:contoso")]
    [InlineData("a+b")]
    [InlineData("tenant/one")] // %2F: Kestrel keeps it encoded, and so must the expected path
    public async Task A_provider_whose_name_needs_escaping_signs_in_and_out(string provider)
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.ProviderName = provider);
        Assert.Contains('%', o8.RedirectUri.AbsolutePath);

        var (account, _) = await HarnessAccounts.SignInAsync(o8);

        Assert.Equal(provider, account.Provider);
        var login = await o8.Browser!.Visits[^1].Completion.WaitAsync(Wait);
        Assert.Equal((ScriptedVisitOutcome.Landed, (int)HttpStatusCode.OK), (login.Outcome, login.LandingStatus));

        var result = await o8.Logins.SignOutAsync(account, SignOutOptions.EndingProviderSession).WaitAsync(Wait);

        Assert.Equal(ProviderSessionOutcome.Ended, result.ProviderSession);
        var signOut = await o8.Browser.Visits[^1].Completion.WaitAsync(Wait);
        Assert.Equal((int)HttpStatusCode.OK, signOut.LandingStatus);
        Assert.Contains("You are signed out", signOut.LandingBody);
    }
}
