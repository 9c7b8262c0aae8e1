using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A sign-out that comes while an interactive login runs waits for the login to end (it cancels it), and from then on
/// nothing undoes it: no second login is opened ahead of it, and the token it removes is served to nobody (callers after
/// it are told the account is signing out, as once it has begun).
/// </summary>
public sealed partial class AccountActorTests
{
    [Fact]
    public async Task A_sign_out_during_a_login_that_had_just_ended_is_not_overtaken_by_a_second_login_nor_is_its_token_served_meanwhile()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var starter = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var joiner = Get(accounts, Alice, AccessTokenOptions.Interactive, ["write"]); // scopes the login will not bring
        await AccountHasTakenAsync(accounts);
        var signOut = SignOutAlice(accounts);
        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
        await AccountHasTakenAsync(accounts);
        // Asked after the sign-out: told at once that the account is signing out, not served the token it removes.
        var afterSignOut = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        Assert.Equal(InteractionReason.NoAccount, afterSignOut.Reason);

        // The login had ended as the sign-out came (its outcome on its way): tokens for "read", no refresh token.
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { RefreshToken = null, Scope = "read" }));

        Assert.Equal("at-2", (await starter.WaitAsync(Wait)).Token); // asked before the sign-out
        var refused = await Assert.ThrowsAsync<InteractionRequiredException>(() => joiner.WaitAsync(Wait));
        Assert.Contains("is being signed out", refused.Message, StringComparison.Ordinal);
        Assert.Equal(Alice, (await signOut.WaitAsync(Wait)).Account);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // no second browser login
    }

    /// <summary>
    /// A back-channel logout naming another session (a conditional sign-out, checked against the account's tokens) came
    /// while the account's refresh was at the provider; the refresh was refused, and the interactive caller was told the
    /// account was being signed out, no login started, though the check then signed nobody out. Only a sign-out of the
    /// whole account refuses the login now; the conditional one waits for it and is checked after.
    /// </summary>
    [Fact]
    public async Task Another_sessions_logout_waiting_for_a_refused_renewal_does_not_refuse_its_interactive_login()
    {
        var (strategy, flows, accounts, interactive) = await InteractiveCallerWithRefreshHeldAsync();
        var check = accounts.Ask<object>(new SignOut(Alice, SignOutOptions.Local, new EndedSession("bobs-session", AlsoWithoutSessionId: false)), Wait);
        await AccountHasTakenAsync(accounts);

        strategy.Release();

        var start = flows.ExpectMsg<StartFlow>(Wait);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));
        Assert.Equal("at-2", (await interactive.WaitAsync(Wait)).Token);
        Assert.IsType<SignOutSkipped>(await check);
    }

    [Fact]
    public async Task A_caller_after_a_sign_out_that_waits_for_a_refresh_is_told_at_once_that_the_account_is_signing_out()
    {
        var strategy = NewStrategy();
        var accounts = await Accounts(strategy, new InMemoryTokenStore());
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        strategy.Hold();
        var before = Get(accounts, Alice); // its refresh is at the provider
        AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);
        var signOut = SignOutAlice(accounts);
        await AccountHasTakenAsync(accounts);

        // Not kept waiting behind the refresh (which may take up to its backstop), nor served the token the sign-out removes.
        var after = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        Assert.Equal(InteractionReason.NoAccount, after.Reason);

        strategy.Release();
        Assert.Equal("at-2", (await before.WaitAsync(Wait)).Token); // asked before the sign-out
        Assert.Equal(Alice, (await signOut.WaitAsync(Wait)).Account);
    }
}
