using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// Accounts against the sandbox through the real orchestrator (HTTPS listener, scripted browser, discovery): a login
/// yields an account, tokens are served from the cache, refreshed once for many callers (counted at the sandbox),
/// refused refresh tokens need interaction, and sign-out revokes at the sandbox's RFC 7009 endpoint.
/// </summary>
public sealed class AccountTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_login_yields_its_account_and_the_token_is_served_from_the_cache()
    {
        await using var o8 = await O8TestHarness.StartAsync();

        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        var served = await o8.Logins.GetAccessTokenAsync(account).WaitAsync(Wait);

        Assert.Equal(new OAuthAccount(o8.ProviderName, "alice"), account);
        Assert.Equal(tokens.AccessToken, served.Token);
        Assert.Equal(0, o8.Sandbox.Counters.Refreshes);
        Assert.Equal([account], await o8.Logins.GetAccountsAsync(o8.ProviderName).WaitAsync(Wait));
        Assert.DoesNotContain(tokens.AccessToken, served.ToString());
    }

    [Fact]
    public async Task Hundred_callers_after_expiry_cause_one_refresh_at_the_sandbox()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.VirtualTime = true);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        o8.Scheduler.Advance(TimeSpan.FromHours(2));
        // A slow token endpoint: every caller arrives while the one refresh is in flight. (The sandbox's clock is real
        // and the actors' virtual, so a caller arriving after the refresh would find the new token "expired" as well.)
        o8.Sandbox.TokenFaults = TokenFaultPlan.PerLogin(_ => TokenFault.Delay(TimeSpan.FromSeconds(2)));

        var served = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => o8.Logins.GetAccessTokenAsync(account))).WaitAsync(Wait);

        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        Assert.Equal(2, o8.Sandbox.Counters.TokenRequests); // the login's code exchange and the one refresh
        Assert.Equal(1, o8.Sandbox.Counters.Faults(TokenFaultKind.Delay));
        Assert.Single(served.Select(s => s.Token).Distinct());
        Assert.NotEqual(tokens.AccessToken, served[0].Token);
        Assert.True(o8.Sandbox.IsActive(served[0].Token));
        Assert.False(o8.Sandbox.IsRefreshTokenActive(tokens.RefreshToken!));
        Assert.Equal(0, o8.Sandbox.Counters.FamiliesRevoked);
    }

    [Fact]
    public async Task A_refresh_token_spent_elsewhere_leads_to_InteractionRequiredException()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.VirtualTime = true);
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        // Someone refreshed behind the account's back: its refresh token is rotated away.
        await o8.RefreshAsync(tokens.RefreshToken!).WaitAsync(Wait);
        o8.Scheduler.Advance(TimeSpan.FromHours(2));

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => o8.Logins.GetAccessTokenAsync(account).WaitAsync(Wait));

        Assert.Equal(InteractionReason.RefreshRefused, error.Reason);
        Assert.Equal(account, error.Account);
        Assert.DoesNotContain(tokens.RefreshToken!, error.Message);
    }

    [Fact]
    public async Task Sign_out_revokes_at_the_sandbox_and_forgets_the_account()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);

        var result = await o8.Logins.SignOutAsync(account).WaitAsync(Wait);

        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.True(o8.Sandbox.Counters.Revocations >= 1);
        Assert.False(o8.Sandbox.IsRefreshTokenActive(tokens.RefreshToken!));
        Assert.False(o8.Sandbox.IsActive(tokens.AccessToken));
        Assert.Empty(await o8.Logins.GetAccountsAsync().WaitAsync(Wait));
        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => o8.Logins.GetAccessTokenAsync(account).WaitAsync(Wait));
        Assert.Equal(InteractionReason.NoAccount, error.Reason);
    }
}
