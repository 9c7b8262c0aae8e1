using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A sign-out whose store fails or never answers: a failed read leaves the tokens stored and unrevoked, a failed removal
/// serves them to nobody and is retried, and a retry never removes what another process stored since.
/// </summary>
public sealed partial class AccountActorTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // thrown by the call itself
    public async Task A_sign_out_whose_store_read_fails_fails_and_leaves_the_tokens_stored_and_unrevoked(bool throwsAtOnce)
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore { ThrowsAtOnce = throwsAtOnce };
        var accounts = await Accounts(strategy, store);
        // Signed in by an earlier run: this account's actor starts fresh and knows the tokens only from the store.
        await store.Inner.SaveAsync(Alice, strategy.Issue("alice"), 0);
        store.FailLoads(2);

        // A back-channel logout of the session, then an ordinary sign-out, while the store cannot be read.
        var backChannel = await Assert.ThrowsAsync<AuthorizationFailedException>(() =>
            accounts.Ask<object>(new SignOut(Alice, SignOutOptions.Local, new EndedSession("sid-1", AlsoWithoutSessionId: true)), Wait));
        var ordinary = await Assert.ThrowsAsync<AuthorizationFailedException>(() => SignOutAlice(accounts));

        Assert.Contains("could not be read", backChannel.Message);
        Assert.Contains("could not be read", ordinary.Message);
        Assert.Empty(strategy.Revoked);
        Assert.Equal("rt-1", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
        // Once the store answers again, the sign-out is carried out.
        var again = await SignOutAlice(accounts);
        Assert.Equal(RevocationOutcome.Revoked, again.Revocation);
        Assert.Null(await store.Inner.LoadAsync(Alice));
    }

    [Fact]
    public async Task A_sign_out_of_an_account_whose_stored_record_no_longer_reads_revokes_the_tokens_held_here_and_removes_the_record()
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        store.MakeUnreadable(); // a newer version of the app rewrote it, then the app was downgraded

        var result = await SignOutAlice(accounts);

        // The tokens this process holds are revoked; the record's own cannot be read, so it is removed unrevoked.
        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.Equal(["rt-1", "at-1"], strategy.Revoked.Select(r => r.Token));
        Assert.Equal(1, store.Removes);
        // Signed out for good: a new login is stored again.
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Assert.Equal("rt-2", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
    }

    [Fact]
    public async Task A_sign_out_of_an_unreadable_record_the_account_never_read_removes_it_and_a_failed_removal_is_retried()
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var accounts = await Accounts(strategy, store);
        await store.Inner.SaveAsync(Alice, strategy.Issue("alice"), 0); // an earlier run's, never read by this actor
        store.MakeUnreadable();
        store.FailRemoves(1);

        await Assert.ThrowsAsync<AuthorizationFailedException>(() => SignOutAlice(accounts));
        Assert.Empty(strategy.Revoked);
        // The retry finds the record still unreadable, which is still the one signed out: removed.
        // The retry's 1 s backoff starts in the turn that answered the sign-out: the clock moves until the retry has run.
        await AwaitAssertAsync(async () =>
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Null(await store.Inner.LoadAsync(Alice));
        }, Wait);
        Assert.Equal(2, store.Removes);
    }

    [Fact]
    public async Task A_removal_retry_leaves_the_tokens_another_process_stored_after_the_failed_sign_out()
    {
        var strategy = NewStrategy(revokes: false);
        var store = new FlakyTokenStore();
        var one = await Accounts(strategy, store, name: "accounts-one");
        var two = await Accounts(strategy, store, name: "accounts-two");
        await Remember(one, Alice, strategy.Issue("alice"));
        store.FailRemoves(1);
        await Assert.ThrowsAsync<AuthorizationFailedException>(() => SignOutAlice(one));

        // Before the retry, Alice signs in again in the other process: her new grant is stored over the signed-out copy.
        var again = strategy.Issue("alice");
        await Remember(two, Alice, again);

        // The retry finds other tokens than those it signed out, and leaves them.
        await RemovalRetryLeavesOtherTokensAsync();
        Assert.Equal(again.RefreshToken, (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
        Assert.Equal(1, store.Removes); // the failed sign-out's: the retry found other tokens and removed nothing
        Assert.Equal(again.AccessToken, (await Get(two, Alice)).Token);
    }

    [Fact]
    public async Task A_sign_out_whose_store_removal_fails_fails_and_the_tokens_are_not_served_again()
    {
        // A provider without revocation: the tokens stay valid there, so only their removal here signs the user out.
        var strategy = NewStrategy(revokes: false);
        var store = new FlakyTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        store.FailRemoves(2);

        var error = await Assert.ThrowsAsync<AuthorizationFailedException>(() => SignOutAlice(accounts));

        Assert.Contains("was not signed out", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("at-1", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("rt-1", error.Message, StringComparison.Ordinal);
        // The stored copy is still there, but the account serves it to nobody.
        Assert.NotNull(await store.Inner.LoadAsync(Alice));
        Assert.Equal(InteractionReason.NoAccount, (await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice))).Reason);
        // The removal is retried with backoff (virtual time) until the store takes it; the first retry fails too.
        Clock.Advance(TimeSpan.FromSeconds(1));
        await AwaitConditionAsync(() => Task.FromResult(store.Removes == 2), Wait, Polling.Interval);
        Assert.NotNull(await store.Inner.LoadAsync(Alice));
        // The next retry is scheduled once that failure is handled, which the store's count does not show: advance until it has run.
        await AwaitAssertAsync(async () =>
        {
            Clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Null(await store.Inner.LoadAsync(Alice));
        }, Wait);
        Assert.Equal(InteractionReason.NoAccount, (await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice))).Reason);
    }

    /// <summary>Alice signed in, then signed out while the store failed to remove her tokens (the sign-out failed).</summary>
    private async Task<(RotatingStrategy Strategy, FlakyTokenStore Store, IActorRef Accounts)> SignedOutButNotRemovedAsync(bool revokes = true)
    {
        var strategy = NewStrategy(revokes: revokes);
        var store = new FlakyTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        store.FailRemoves(1);
        await Assert.ThrowsAsync<AuthorizationFailedException>(() => SignOutAlice(accounts));
        return (strategy, store, accounts);
    }

    [Fact]
    public async Task A_sign_out_asked_again_after_a_failed_store_removal_completes_it()
    {
        var (strategy, store, accounts) = await SignedOutButNotRemovedAsync();

        var again = await SignOutAlice(accounts);

        Assert.Equal(RevocationOutcome.Revoked, again.Revocation);
        Assert.Null(await store.Inner.LoadAsync(Alice));
        // A new login afterwards is served as usual.
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
    }

    [Fact]
    public async Task A_sign_out_asked_while_a_failed_removal_is_retried_is_answered_when_the_account_moves()
    {
        var (strategy, store, accounts) = await SignedOutButNotRemovedAsync();
        var gate = store.HoldRemoves();
        // The removal's retry, which waits at the store (its timer is set once the failure is handled: advance until it ran,
        // by steps well under the retry's own deadline, which would give it up).
        await AwaitConditionAsync(() =>
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            return Task.FromResult(store.Removes == 2);
        }, Wait, Polling.Interval);

        // Asked again while that retry runs (it waits for the retry), then its cluster entity moves (sharding's hand-off).
        var again = SignOutAlice(accounts);
        accounts.Tell(AccountHandOff.Instance);

        var error = await Assert.ThrowsAsync<AuthorizationFailedException>(() => again);
        Assert.Contains("moved", error.Message, StringComparison.Ordinal);
        gate.SetResult();
    }

    /// <summary>
    /// Alice signed in on a store that stops answering <paramref name="hold"/>'s step (its gate returned), then asked to
    /// sign out; returns once that step waits at the store and the sign-out's deadline for it has passed.
    /// </summary>
    private async Task<(RotatingStrategy Strategy, FlakyTokenStore Store, IActorRef Accounts, TaskCompletionSource Gate, Task<SignOutResult> SignOut)>
        SignOutAtAStoreThatDoesNotAnswerAsync(Func<FlakyTokenStore, TaskCompletionSource> hold, Func<FlakyTokenStore, int> calls)
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        var gate = hold(store);
        var before = calls(store);

        var signOut = SignOutAlice(accounts);
        await AwaitConditionAsync(() => Task.FromResult(calls(store) == before + 1), Wait, Polling.Interval); // the sign-out's step, waiting
        Clock.Advance(StoreCallWait);
        return (strategy, store, accounts, gate, signOut);
    }

    [Fact]
    public async Task A_sign_out_whose_store_read_never_answers_fails_in_time_and_the_account_keeps_serving_and_signs_out_later()
    {
        var (strategy, store, accounts, gate, signOut) = await SignOutAtAStoreThatDoesNotAnswerAsync(s => s.HoldLoads(), s => s.Loads);

        var error = await Assert.ThrowsAsync<AuthorizationFailedException>(() => signOut);
        Assert.Contains("did not read the tokens within", error.Message, StringComparison.Ordinal);
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token); // still signed in, nothing revoked
        Assert.Empty(strategy.Revoked);
        // The store answers at last (its late answer changes nothing), and a sign-out asked again is carried out.
        gate.SetResult();
        Assert.Equal(RevocationOutcome.Revoked, (await SignOutAlice(accounts)).Revocation);
        Assert.Null(await store.Inner.LoadAsync(Alice));
    }

    [Fact]
    public async Task A_sign_out_whose_store_removal_never_answers_fails_in_time_and_serves_the_revoked_tokens_to_nobody()
    {
        var (_, store, accounts, gate, signOut) = await SignOutAtAStoreThatDoesNotAnswerAsync(s => s.HoldRemoves(), s => s.Removes);

        var error = await Assert.ThrowsAsync<AuthorizationFailedException>(() => signOut);
        Assert.Contains("could not be removed", error.Message, StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        Assert.Contains("could not be removed yet", refused.Message, StringComparison.Ordinal);
        // Its retries are bounded too: each one that hangs is given up and tried again, until the store answers.
        await AwaitConditionAsync(() =>
        {
            Clock.Advance(StoreCallWait);
            return Task.FromResult(store.Removes >= 3);
        }, Wait, Polling.Interval);
        gate.SetResult();
        await AwaitConditionAsync(async () =>
        {
            Clock.Advance(TimeSpan.FromMinutes(1));
            return await store.Inner.LoadAsync(Alice) is null;
        }, Wait, Polling.Interval);
    }

    [Fact]
    public async Task A_sign_outs_removal_given_up_never_deletes_what_another_process_stores_after_it()
    {
        var (strategy, store, accounts, gate, signOut) = await SignOutAtAStoreThatDoesNotAnswerAsync(s => s.HoldRemoves(), s => s.Removes);
        await Assert.ThrowsAsync<AuthorizationFailedException>(() => signOut);

        // The sign-out gave up (and released the store's lock); another process signs Alice in again.
        var again = strategy.Issue("alice");
        Assert.Equal(2L, await store.Inner.SaveAsync(Alice, again, 1));

        // The store now answers the removal it was holding: given up, it must not delete the new sign-in. The retry then
        // finds other tokens than those it signed out, and leaves them.
        gate.SetResult();
        await RemovalRetryLeavesOtherTokensAsync();
        Assert.Equal(again.RefreshToken, (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
    }

    /// <summary>Runs the removal retry (1 s of backoff) and returns once it found other tokens than the signed-out ones and left them.</summary>
    private async Task RemovalRetryLeavesOtherTokensAsync()
    {
        // The retry's backoff is set in the turn that answered the sign-out, which may still be running when the test goes
        // on (a loaded machine): one advance could come before the timer exists, so the clock moves a second at a time
        // until the retry has run.
        // Started by the filter's action, so the filter is in place before the first advance can run the retry.
        using var retried = new CancellationTokenSource();
        var advancing = Task.CompletedTask;
        try
        {
            await EventFilter.Info(contains: "they are left").ExpectAsync(1, () =>
            {
                advancing = Task.Run(async () =>
                {
                    while (!retried.IsCancellationRequested)
                    {
                        Clock.Advance(TimeSpan.FromSeconds(1));
                        await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
                    }
                });
                return Task.CompletedTask;
            }, Wait);
        }
        finally
        {
            await retried.CancelAsync();
            await advancing;
        }
    }

    private static TimeSpan StoreCallWait => AccountTestSupport.Settings().StoreCallWait;

    [Fact]
    public async Task A_login_after_a_failed_store_removal_replaces_the_signed_out_tokens_and_is_served()
    {
        var (strategy, store, accounts) = await SignedOutButNotRemovedAsync(revokes: false);

        await Remember(accounts, Alice, strategy.Issue("alice"));

        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
        Assert.Equal("at-2", (await store.Inner.LoadAsync(Alice))!.Tokens.AccessToken);
    }
}
