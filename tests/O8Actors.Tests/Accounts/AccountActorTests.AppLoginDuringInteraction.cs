using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Flows;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// The app's own sign-in (its remember) ends while the account runs an interactive login of its own: the user signed in
/// through the app, so the account's login (a browser tab the user may never finish) is cancelled and the app's tokens
/// are stored and served at once, and the cancelled login's answer, should it still come, is not stored over them.
/// </summary>
public sealed partial class AccountActorTests
{
    [Fact]
    public async Task The_apps_sign_in_during_the_accounts_own_login_is_stored_at_once_and_serves_its_callers()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var interactive = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait); // the account's own tab, which the user leaves
        var appLogin = strategy.Issue("alice");       // the app's own sign-in, in another tab

        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, appLogin), Wait);

        var cancel = flows.ExpectMsg<CancelFlow>(Wait);
        Assert.Equal(start.LoginId, cancel.LoginId);
        // Tokens its code may still bring are the same grant's as the app's sign-in: dropped by the login, not revoked.
        Assert.True(cancel.DropLateTokens);
        Assert.Equal(appLogin.AccessToken, (await interactive).Token);
        Assert.Equal(appLogin.AccessToken, (await Get(accounts, Alice)).Token);
        // The cancelled login ended with tokens all the same (the user finished it as it was cancelled): not stored.
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(appLogin.AccessToken, (await Get(accounts, Alice)).Token);
    }

    /// <summary>
    /// The account's own login, cancelled for the app's sign-in, that succeeds all the same (the user finished it as it
    /// was cancelled): its tokens are not stored over the newer sign-in's, and not revoked either: they belong to the same
    /// user and client, and a provider whose revocation ends the whole grant (Google's) would end the sign-in just taken.
    /// </summary>
    [Fact]
    public async Task The_accounts_own_login_cancelled_for_the_apps_sign_in_that_succeeds_all_the_same_is_dropped_and_revokes_nothing()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var interactive = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var appLogin = strategy.Issue("alice");
        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, appLogin), Wait);
        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
        Assert.Equal(appLogin.AccessToken, (await interactive).Token);

        var cancelled = strategy.Issue("alice");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, cancelled));

        // The stale answer has been taken in (its pipe to the account was queued before this await's continuation, and
        // an Identify follows it), and the account still serves the newer sign-in.
        await start.Completion.Task;
        var account = await LiveAccountActorAsync(accounts);
        await account.Ask<ActorIdentity>(new Identify(1), Wait);
        Assert.Equal(appLogin.AccessToken, (await Get(accounts, Alice)).Token);
        Assert.DoesNotContain(strategy.Revoked, r => r.Token == cancelled.RefreshToken || r.Token == cancelled.AccessToken);
        Assert.DoesNotContain(strategy.Revoked, r => r.Token == appLogin.RefreshToken || r.Token == appLogin.AccessToken);
    }

    /// <summary>A sign-out asked before the app's sign-in came is done first: the sign-in that follows it stays signed in.</summary>
    [Fact]
    public async Task The_apps_sign_in_after_a_sign_out_during_the_accounts_own_login_is_stored_after_the_sign_out()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var interactive = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var signOut = SignOutAlice(accounts);
        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
        var appLogin = strategy.Issue("alice");
        var remembered = accounts.Ask<LoginRemembered>(new RememberLogin(Alice, appLogin), Wait);
        await AccountHasTakenAsync(accounts);

        start.Completion!.SetResult(new LoginCancelled(start.LoginId));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interactive);
        await signOut;
        await remembered;
        Assert.Equal(appLogin.AccessToken, (await Get(accounts, Alice)).Token);
    }
}
