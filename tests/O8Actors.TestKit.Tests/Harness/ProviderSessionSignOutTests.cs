using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// Signing out of the provider too (OpenID Connect RP-Initiated Logout) through the real orchestrator: the HTTPS
/// listener, the scripted browser and the sandbox's discovered end-session endpoint.
/// </summary>
public sealed class ProviderSessionSignOutTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Ending_the_provider_session_opens_its_end_session_endpoint_and_the_browser_comes_back_signed_out()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);

        var result = await o8.Logins.SignOutAsync(account, SignOutOptions.EndingProviderSession).WaitAsync(Wait);

        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.Equal(ProviderSessionOutcome.Ended, result.ProviderSession);
        Assert.Null(result.ProviderSessionReason);
        Assert.False(o8.Sandbox.IsRefreshTokenActive(tokens.RefreshToken!));
        Assert.Empty(await o8.Logins.GetAccountsAsync().WaitAsync(Wait));

        // The sandbox ended the client's session and sent the browser back to the provider's own redirect URI with the
        // sign-out's state. No ID token travelled in the URL (SignOutOptions.SendIdTokenHint is off by default).
        var ended = Assert.Single(o8.Sandbox.EndedSessions);
        Assert.Equal((null, o8.Client.ClientId, o8.RedirectUri), (ended.Subject, ended.ClientId, ended.PostLogoutRedirectUri));
        var visit = o8.Browser!.Visits[^1];
        Assert.Equal(o8.Sandbox.EndSessionEndpoint.AbsolutePath, visit.AuthorizeUrl.AbsolutePath);
        var query = QueryHelpers.ParseQuery(visit.AuthorizeUrl.Query);
        Assert.False(query.ContainsKey("id_token_hint"));
        Assert.DoesNotContain(tokens.IdToken!, visit.AuthorizeUrl.OriginalString);
        var landed = await visit.Completion.WaitAsync(Wait);
        Assert.Equal(ScriptedVisitOutcome.Landed, landed.Outcome);
        Assert.Equal((int)HttpStatusCode.OK, landed.LandingStatus);
        Assert.Contains("You are signed out", landed.LandingBody);
        Assert.Equal(query["state"].ToString(), landed.CallbackParameter("state"));
    }

    [Fact]
    public async Task With_the_hint_allowed_the_id_token_names_the_session_that_ends()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8, "bob");

        var result = await o8.Logins.SignOutAsync(account, new SignOutOptions(EndProviderSession: true, SendIdTokenHint: true)).WaitAsync(Wait);

        Assert.Equal(ProviderSessionOutcome.Ended, result.ProviderSession);
        Assert.Equal("bob", Assert.Single(o8.Sandbox.EndedSessions).Subject);
        var query = QueryHelpers.ParseQuery(o8.Browser!.Visits[^1].AuthorizeUrl.Query);
        Assert.Equal(tokens.IdToken, query["id_token_hint"].ToString());
    }

    [Fact]
    public async Task A_plain_sign_out_leaves_the_provider_session_and_opens_no_browser()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, _) = await HarnessAccounts.SignInAsync(o8);
        var visits = o8.Browser!.Visits.Count;

        var result = await o8.Logins.SignOutAsync(account).WaitAsync(Wait);

        Assert.Equal(ProviderSessionOutcome.NotRequested, result.ProviderSession);
        Assert.Equal(visits, o8.Browser.Visits.Count);
        Assert.Empty(o8.Sandbox.EndedSessions);
    }

    [Fact]
    public async Task A_provider_without_an_end_session_endpoint_is_reported_and_the_tokens_are_still_revoked()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.ConfigureSandbox = s => s.EndSession = false);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        var visits = o8.Browser!.Visits.Count;

        var result = await o8.Logins.SignOutAsync(account, SignOutOptions.EndingProviderSession).WaitAsync(Wait);

        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.Equal(ProviderSessionOutcome.NotSupported, result.ProviderSession);
        Assert.Contains("end_session_endpoint", result.ProviderSessionReason);
        Assert.False(o8.Sandbox.IsActive(tokens.AccessToken));
        Assert.Equal(visits, o8.Browser.Visits.Count);
        Assert.Empty(await o8.Logins.GetAccountsAsync().WaitAsync(Wait));
    }
}
