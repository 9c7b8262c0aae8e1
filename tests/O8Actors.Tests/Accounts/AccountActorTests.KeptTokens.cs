using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// Tokens the provider issued that the store failed to take: kept in memory and served, stored once the store recovers,
/// and dropped (and revoked) only when the store no longer holds the copy they replace.
/// </summary>
public sealed partial class AccountActorTests
{
    /// <summary>
    /// Alice's expired token refreshed while the store failed the write: the provider rotated rt-1 into rt-2, the caller
    /// got at-2 all the same (with a Warning), and rt-2 is kept in the account's memory only.
    /// </summary>
    private async Task<(RotatingStrategy Strategy, FlakyTokenStore Store, IActorRef Accounts)> RotatedButNotStoredAsync(bool throwsAtOnce = false)
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore { ThrowsAtOnce = throwsAtOnce };
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        store.FailSaves(1);
        await EventFilter.Warning(contains: "stored again later").ExpectAsync(1, async () => Assert.Equal("at-2", (await Get(accounts, Alice)).Token), Wait);
        return (strategy, store, accounts);
    }

    /// <summary>
    /// The user approved an interactive login, and the store failed as the account took its lock or read it, before the
    /// save went out: the tokens were dropped, their refresh token live at the provider and held by nobody, the caller
    /// was told the store failed and the next call opened the browser again.
    /// </summary>
    [Fact]
    public async Task An_interactive_logins_tokens_whose_save_the_store_failed_before_it_went_out_are_served_kept_and_stored_once_it_recovers()
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, store, flows.Ref);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        strategy.RevokeAll();
        var caller = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);

        store.FailLoads(1); // down as the login ends: the account cannot read what the store holds
        await EventFilter.Warning(contains: "stored again later").ExpectAsync(1, async () =>
        {
            start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));
            Assert.Equal("at-2", (await caller).Token);
        }, Wait);

        // Kept: a silent call is served them (no second login), and they are stored once the store recovers.
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
        await AwaitAssertAsync(async () =>
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("rt-2", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
        }, Wait);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // a store written without async, whose failure is thrown by the call itself
    public async Task Rotated_tokens_the_store_failed_to_take_are_served_kept_and_stored_once_it_recovers(bool throwsAtOnce)
    {
        var (strategy, store, accounts) = await RotatedButNotStoredAsync(throwsAtOnce);
        Assert.Equal("rt-1", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);

        // The store recovers: the retry stores the kept tokens. The retry's timer is set in the same turn that answered
        // the caller, maybe after this thread moves the clock: advance until it has run.
        await AwaitAssertAsync(async () =>
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            var stored = await store.Inner.LoadAsync(Alice);
            Assert.Equal(("rt-2", 2L), (stored!.Tokens.RefreshToken, stored.Version));
        }, Wait);

        // The next refresh spends rt-2, never the spent rt-1.
        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("at-3", (await Get(accounts, Alice)).Token);
        Assert.Equal((2, 0), (strategy.Refreshes, strategy.Replays));
        Assert.Equal("rt-3", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
    }

    [Fact]
    public async Task An_account_handed_off_with_tokens_the_store_failed_to_take_stores_them_before_it_stops()
    {
        var (strategy, store, accounts) = await RotatedButNotStoredAsync();
        Watch(accounts);

        // Its cluster entity moves (sharding's hand-off) before the retry timer fired: the store gets one more try first.
        accounts.Tell(AccountHandOff.Instance);

        ExpectTerminated(accounts, Wait);
        Assert.Equal("rt-2", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
        Assert.Equal(1, strategy.Refreshes);
    }

    [Fact]
    public async Task Rotated_tokens_the_store_failed_to_take_are_stored_before_the_next_refresh()
    {
        var (strategy, store, accounts) = await RotatedButNotStoredAsync();

        // Asked again before the retry timer: a forced refresh stores the kept tokens first, then refreshes with rt-2.
        var forced = await Get(accounts, Alice, new AccessTokenOptions(ForceRefresh: true));

        Assert.Equal("at-3", forced.Token);
        Assert.Equal((2, 0), (strategy.Refreshes, strategy.Replays));
        var stored = await store.Inner.LoadAsync(Alice);
        Assert.Equal(("rt-3", 3L), (stored!.Tokens.RefreshToken, stored.Version));
    }

    /// <summary>Runs the save retry of <see cref="RotatedButNotStoredAsync"/>'s kept tokens and returns once it has dropped them.</summary>
    private async Task KeptTokensDroppedAtTheRetryAsync(IActorRef accounts)
    {
        await AccountHasTakenAsync(accounts); // its retry timer is set
        await EventFilter.Warning(contains: "tokens kept since the store failed are dropped").ExpectAsync(1,
            () =>
            {
                Clock.Advance(TimeSpan.FromMinutes(1));
                return Task.CompletedTask;
            }, Wait);
    }

    [Fact]
    public async Task Kept_tokens_never_overwrite_another_grant_that_the_store_counts_at_the_same_version()
    {
        var (strategy, store, accounts) = await RotatedButNotStoredAsync();

        // Before the retry, another process signs Alice out (the store forgets her and counts from 0 again) and she signs
        // in there: her new grant is stored at version 1, the version the kept tokens were to replace.
        await store.Inner.RemoveAsync(Alice);
        var elsewhere = strategy.Issue("alice");
        Assert.Equal(1L, await store.Inner.SaveAsync(Alice, elsewhere, 0));

        // The retry finds version 1 holding other tokens: the kept ones (of the signed-out grant) are dropped, not stored.
        await KeptTokensDroppedAtTheRetryAsync(accounts);

        var stored = await store.Inner.LoadAsync(Alice);
        Assert.Equal((elsewhere.RefreshToken, 1L), (stored!.Tokens.RefreshToken, stored.Version));
        Assert.Equal(elsewhere.AccessToken, (await Get(accounts, Alice)).Token);
        // The dropped tokens of the signed-out grant are revoked (nothing holds them any more); the new grant's are not.
        await AwaitAssertAsync(() => Assert.False(strategy.IsValid("rt-2")), Wait);
        Assert.True(strategy.IsValid(elsewhere.RefreshToken!));
    }

    [Fact]
    public async Task Kept_tokens_are_not_revoked_when_the_store_has_moved_past_the_copy_they_replace()
    {
        var (strategy, store, accounts) = await RotatedButNotStoredAsync();

        // Another process stored a newer version over the copy they replace (the kept tokens may have reached it through
        // a save that hung and landed, and been refreshed there): that grant may be theirs, and live.
        var newer = strategy.Issue("alice");
        Assert.Equal(2L, await store.Inner.SaveAsync(Alice, newer, 1));

        await KeptTokensDroppedAtTheRetryAsync(accounts);

        Assert.Equal(newer.AccessToken, (await Get(accounts, Alice)).Token);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // time for a revocation, were one sent, to reach the provider
        Assert.Empty(strategy.Revoked);
        Assert.True(strategy.IsValid("rt-2"));
    }

    [Fact]
    public async Task Kept_tokens_dropped_after_a_sign_out_elsewhere_are_revoked_at_the_provider()
    {
        var (strategy, store, accounts) = await RotatedButNotStoredAsync();

        // Another process signs Alice out: it reads and revokes the stored copy, whose refresh token (rt-1) is spent, and
        // cannot know of rt-2, which only this process holds.
        await store.Inner.RemoveAsync(Alice);

        await KeptTokensDroppedAtTheRetryAsync(accounts);

        await AwaitAssertAsync(() => Assert.Equal(["rt-2", "at-2"], strategy.Revoked.Select(r => r.Token)), Wait);
        Assert.False(strategy.IsValid("rt-2"));
        Assert.Null(await store.Inner.LoadAsync(Alice));
    }

    [Fact]
    public async Task Sign_out_revokes_the_tokens_the_store_failed_to_take_not_the_spent_stored_ones()
    {
        var (strategy, store, accounts) = await RotatedButNotStoredAsync();

        var result = await SignOutAlice(accounts);

        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.Equal(["rt-2", "at-2"], strategy.Revoked.Select(r => r.Token));
        Assert.False(strategy.IsValid("rt-2"));
        Assert.Null(await store.Inner.LoadAsync(Alice));
    }

    [Fact]
    public async Task Sign_out_revokes_both_the_kept_tokens_and_the_other_grant_that_replaced_their_stored_copy()
    {
        var (strategy, store, accounts) = await RotatedButNotStoredAsync();

        // Before the retry, another process signs Alice out and in again: the store holds a new grant at version 1.
        await store.Inner.RemoveAsync(Alice);
        var elsewhere = strategy.Issue("alice");
        await store.Inner.SaveAsync(Alice, elsewhere, 0);

        var result = await SignOutAlice(accounts);

        // The kept tokens (rt-2, at-2) are still live at the provider: the sign-out is the last chance to revoke them.
        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.Equal([elsewhere.RefreshToken, "rt-2", elsewhere.AccessToken, "at-2"], strategy.Revoked.Select(r => r.Token));
        Assert.False(strategy.IsValid("rt-2"));
        Assert.False(strategy.IsValid(elsewhere.RefreshToken!));
        Assert.Null(await store.Inner.LoadAsync(Alice));
    }

    [Fact]
    public async Task A_new_grant_stored_elsewhere_at_the_version_this_process_serves_is_served_not_the_signed_out_token()
    {
        // Two processes share the store; tokens live 20 minutes (the account is not retired for idleness meanwhile).
        var strategy = NewStrategy(lifetime: TimeSpan.FromMinutes(20));
        var store = new InMemoryTokenStore();
        var one = await Accounts(strategy, store, name: "accounts-one");
        var two = await Accounts(strategy, store, name: "accounts-two");
        var first = strategy.Issue("alice");
        await Remember(one, Alice, first);
        Assert.Equal(first.AccessToken, (await Get(one, Alice)).Token);

        // The other process signs Alice out (revoking her tokens) and in again: the store counts from 1 again.
        Clock.Advance(TimeSpan.FromMinutes(10));
        await SignOutAlice(two);
        var second = strategy.Issue("alice");
        await Remember(two, Alice, second);
        Assert.Equal(1L, (await store.LoadAsync(Alice))!.Version);

        // The first token nears its expiry: this process reads the store and finds version 1 again, with other tokens.
        Clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(second.AccessToken, (await Get(one, Alice)).Token);
    }

    [Fact]
    public async Task A_save_retry_that_comes_while_a_logout_of_another_session_is_checked_is_scheduled_again()
    {
        var (_, store, accounts) = await RotatedButNotStoredAsync();
        await AccountHasTakenAsync(accounts); // its retry timer is set
        var loads = store.Loads;
        var gate = store.HoldLoads();
        var check = accounts.Ask<object>(new SignOut(Alice, SignOutOptions.Local, new EndedSession("bobs-session", AlsoWithoutSessionId: false)), Wait);
        await AwaitConditionAsync(() => Task.FromResult(store.Loads > loads), Wait, Polling.Interval);

        // The retry's time comes while the stored tokens are read for the logout: it is dropped then.
        Clock.Advance(TimeSpan.FromSeconds(1));
        await AccountHasTakenAsync(accounts);
        gate.SetResult();
        Assert.IsType<SignOutSkipped>(await check);

        // Back to Idle, the retry runs again: the kept tokens reach the store.
        await AwaitAssertAsync(async () =>
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("rt-2", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
        }, Wait);
    }
}
