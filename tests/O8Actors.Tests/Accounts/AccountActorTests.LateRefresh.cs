using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A refresh that answers after its renewal's deadline: taken during the overtime under the lock still held, kept when it
/// answers after the lock was given up, and waited for (within the hand-off's deadline) by an account that moves.
/// </summary>
public sealed partial class AccountActorTests
{
    [Fact]
    public async Task A_refresh_must_be_sent_in_time_for_its_renewal_and_its_late_answer_is_never_taken_for_a_later_login()
    {
        var (strategy, store, _, accounts, account, refresh, settings) = await RefreshOutlivingItsRenewalAsync();
        // The refresh still in flight keeps the lock until its overtime ends, then it is given up.
        Clock.Advance(settings.OvertimeWait);

        // A login starts the next renewal (held at the store's lock), and the abandoned refresh's answer comes in then.
        Task<LoginRemembered> remembered;
        await using (await store.Inner.LockAsync(Alice))
        {
            remembered = accounts.Ask<LoginRemembered>(new RememberLogin(Alice, strategy.Issue("alice")), Wait);
            await AwaitConditionAsync(() => Task.FromResult(store.Locks == 3), Wait, Polling.Interval); // the first login's, the refresh's, this one's
            account.Tell(new CodeExchanged(refresh.RequestId, new TokenSet("at-late", "Bearer", Clock.Now + TimeSpan.FromHours(1), "rt-late", null)));
            // Identify is answered in mailbox order: once it is, the late answer has been handled.
            await account.Ask<ActorIdentity>(new Identify(1), Wait);
        }

        // The login's tokens are stored and served; the late answer, kept until the login's renewal was over, was then
        // dropped (the account had moved on to the login's tokens), never saved in their place.
        Assert.Equal(2L, (await remembered).Version);
        Assert.Equal("rt-2", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
    }

    /// <summary>Alice's token expired and her renewal's refresh went to a provider actor the test plays; returns once the renewal timed out.</summary>
    private async Task<(RotatingStrategy Strategy, FlakyTokenStore Store, TestProbe Providers, IActorRef Accounts, IActorRef Account, RefreshTokens Refresh,
        AccountSettings Settings)> RefreshOutlivingItsRenewalAsync(IActorRef? flows = null)
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var providers = CreateTestProbe();
        var settings = AccountTestSupport.Settings();
        var accounts = this.AccountsOver(store, providers.Ref, flows, settings: settings);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));

        var renewalStarts = Clock.Now;
        var caller = Get(accounts, Alice);
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait);
        // The provider actor drops it unsent once a token request sent then would be answered after the renewal gave up.
        Assert.Equal(renewalStarts + settings.RenewalTimeout - ExchangeTimeouts.LoginDeadline(settings.ExchangeTimeout), refresh.Deadline);
        var account = providers.LastSender;
        await account.Ask<ActorIdentity>(new Identify(0), Wait); // the step that sent it is over, its deadlines set
        // The provider answers later than the renewal waits (a long queue, a slow endpoint, a starved thread pool).
        Clock.Advance(settings.RenewalTimeout);
        // Its caller still hears of the timeout at once.
        Assert.Equal(LoginFailure.ExchangeTimeout, (await Assert.ThrowsAsync<AuthorizationFailedException>(() => caller)).Failure);
        await account.Ask<ActorIdentity>(new Identify(0), Wait); // the timeout has been handled
        return (strategy, store, providers, accounts, account, refresh, settings);
    }

    /// <summary>
    /// A given-up refresh's answer that comes while the account's own interactive login waits: kept aside for Idle, it
    /// held the app's own sign-in back as if a sign-out waited ahead of it. The account's login was not cancelled and
    /// its callers waited out its timeout though the user had signed in.
    /// </summary>
    [Fact]
    public async Task A_late_refresh_answer_during_the_accounts_own_login_does_not_hold_back_the_apps_sign_in()
    {
        var flows = CreateTestProbe();
        var (strategy, _, providers, accounts, account, refresh, settings) = await RefreshOutlivingItsRenewalAsync(flows.Ref);
        Clock.Advance(settings.OvertimeWait);
        await account.Ask<ActorIdentity>(new Identify(1), Wait); // given up
        Clock.Advance(settings.RenewalTimeout);                   // a renewal's length: the refresh token may go out again
        var interactive = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var again = providers.ExpectMsg<RefreshTokens>(Wait);
        providers.Reply(new CodeExchangeFailed(again.RequestId, LoginFailure.TokenExchange, "The token endpoint refused: invalid_grant.", "invalid_grant"));
        var start = flows.ExpectMsg<StartFlow>(Wait);             // the account's own login, in a tab the user leaves
        account.Tell(new CodeExchanged(refresh.RequestId, LateTokens()), providers.Ref);
        var appLogin = strategy.Issue("alice");                   // the app's own sign-in, in another tab

        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, appLogin), Wait);

        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
        Assert.Equal(appLogin.AccessToken, (await interactive).Token);
        // The late answer, taken in Idle after the sign-in, finds the account moved on: dropped, not stored over it.
        await AccountHasTakenAsync(accounts);
        Assert.Equal(appLogin.AccessToken, (await Get(accounts, Alice)).Token);
    }

    /// <summary>
    /// A given-up refresh's answer that comes while a back-channel logout of another session is checked against the
    /// stored tokens: the account stays signed in, so the answer is kept for Idle as in a renewal. It was taken for a
    /// sign-out's late answer and revoked, and the stored refresh token, spent by that refresh, failed the next renewal.
    /// </summary>
    [Fact]
    public async Task A_late_refresh_answer_while_another_sessions_logout_is_checked_is_kept_not_revoked()
    {
        var (_, store, providers, accounts, account, refresh, settings) = await RefreshOutlivingItsRenewalAsync();
        Clock.Advance(settings.OvertimeWait);
        await account.Ask<ActorIdentity>(new Identify(1), Wait); // given up: the account is back in Idle
        var loads = store.Loads;
        var gate = store.HoldLoads();
        var check = accounts.Ask<object>(new SignOut(Alice, SignOutOptions.Local, new EndedSession("bobs-session", AlsoWithoutSessionId: false)), Wait);
        await AwaitConditionAsync(() => Task.FromResult(store.Loads > loads), Wait, Polling.Interval);

        account.Tell(new CodeExchanged(refresh.RequestId, LateTokens()), providers.Ref);
        await account.Ask<ActorIdentity>(new Identify(2), Wait); // taken while the check reads the store
        gate.SetResult();

        Assert.IsType<SignOutSkipped>(await check);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // nothing revoked
        Assert.Equal("at-late", (await Get(accounts, Alice)).Token);
        Assert.Equal("rt-late", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
    }

    private TokenSet LateTokens() => new("at-late", "Bearer", Clock.Now + TimeSpan.FromHours(1), "rt-late", null);

    [Fact]
    public async Task A_refresh_answered_after_its_renewal_timed_out_is_stored_and_served_and_holds_the_lock_until_it_answers()
    {
        var (_, store, providers, accounts, account, refresh, _) = await RefreshOutlivingItsRenewalAsync();

        // Still in flight: the lock stays taken, so no other process reads the stored copy whose refresh token it spends.
        using (var brief = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.Inner.LockAsync(Alice, brief.Token));
        // A caller who comes meanwhile waits for that refresh instead of sending the same refresh token again.
        var next = Get(accounts, Alice);
        account.Tell(new CodeExchanged(refresh.RequestId, LateTokens()), providers.Ref);

        Assert.Equal("at-late", (await next).Token);
        Assert.Equal("rt-late", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
        Assert.Equal("at-late", (await Get(accounts, Alice)).Token);
        Assert.False(providers.HasMessages); // no second refresh
        using var deadline = new CancellationTokenSource(Wait);
        await using (await store.Inner.LockAsync(Alice, deadline.Token))
        {
        }
    }

    /// <summary>
    /// The lock was given up for a refresh still unanswered, and the next caller's renewal read the same refresh token:
    /// it sent it again, and a provider that detects reuse (RFC 9700) revokes the whole grant for a second use.
    /// </summary>
    [Fact]
    public async Task A_refresh_token_out_with_a_refresh_given_up_is_not_sent_again_until_a_renewals_length_has_passed()
    {
        var (_, _, providers, accounts, account, refresh, settings) = await RefreshOutlivingItsRenewalAsync();
        Clock.Advance(settings.OvertimeWait);
        await account.Ask<ActorIdentity>(new Identify(1), Wait); // given up: the lock is released

        var refused = await Assert.ThrowsAsync<AuthorizationFailedException>(() => Get(accounts, Alice));
        Assert.Contains("not sent twice", refused.Message);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // the spent refresh token stayed here
        // Held back for the whole of a renewal's length, to its last tick.
        Clock.Advance(settings.RenewalTimeout - TimeSpan.FromTicks(1));
        Assert.Contains("not sent twice", (await Assert.ThrowsAsync<AuthorizationFailedException>(() => Get(accounts, Alice))).Message);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        // No answer within a renewal's length: taken as lost, and the refresh token goes out again.
        Clock.Advance(TimeSpan.FromTicks(1));
        var next = Get(accounts, Alice);
        var again = providers.ExpectMsg<RefreshTokens>(Wait);
        Assert.Equal(refresh.RefreshToken, again.RefreshToken);
        providers.Reply(new CodeExchanged(again.RequestId, LateTokens()));
        Assert.Equal("at-late", (await next).Token);
    }

    /// <summary>
    /// A refresh sent ahead of expiry (inside the refresh margin) and given up: the next caller, while the access token is
    /// still valid, was failed ("not sent twice") instead of served the token that still works.
    /// </summary>
    [Fact]
    public async Task A_caller_while_a_refresh_given_up_is_unanswered_gets_the_access_token_that_is_still_valid()
    {
        var strategy = NewStrategy();
        var providers = CreateTestProbe();
        var settings = AccountTestSupport.Settings();
        var accounts = this.AccountsOver(new FlakyTokenStore(), providers.Ref, settings: settings);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        // Inside the margin: the next caller renews ahead of expiry, with time for the whole renewal and its overtime.
        Clock.Advance(strategy.Lifetime - settings.RefreshMargin + TimeSpan.FromSeconds(1));
        Assert.True(settings.RenewalTimeout + settings.OvertimeWait < settings.RefreshMargin - TimeSpan.FromSeconds(10));

        var first = Get(accounts, Alice);
        providers.ExpectMsg<RefreshTokens>(Wait);
        var account = providers.LastSender;
        await account.Ask<ActorIdentity>(new Identify(0), Wait); // the step that sent it is over, its deadlines set
        Clock.Advance(settings.RenewalTimeout);
        Assert.Equal("at-1", (await first).Token); // the renewal timed out: the token that still works
        Clock.Advance(settings.OvertimeWait);
        await account.Ask<ActorIdentity>(new Identify(1), Wait); // the refresh is given up, its answer still awaited

        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // and the refresh token out is not sent again
    }

    [Fact]
    public async Task A_refresh_answered_after_the_lock_was_given_up_for_it_is_kept_and_stored()
    {
        var (_, store, providers, accounts, account, refresh, settings) = await RefreshOutlivingItsRenewalAsync();
        Clock.Advance(settings.OvertimeWait);
        // Given up: the lock is free again.
        using (var deadline = new CancellationTokenSource(Wait))
        {
            await using (await store.Inner.LockAsync(Alice, deadline.Token))
            {
            }
        }

        account.Tell(new CodeExchanged(refresh.RequestId, LateTokens()), providers.Ref);

        // Kept as tokens the store did not take are: served, and stored over the copy the refresh replaced.
        Assert.Equal("at-late", (await Get(accounts, Alice)).Token);
        await AwaitAssertAsync(async () => Assert.Equal("rt-late", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken), Wait);
        Assert.False(providers.HasMessages); // no second refresh
    }

    [Fact]
    public async Task An_account_handed_off_while_a_refresh_it_gave_up_may_still_answer_waits_for_the_answer_and_stores_it()
    {
        var (_, store, providers, accounts, account, refresh, settings) = await RefreshOutlivingItsRenewalAsync();
        Clock.Advance(settings.OvertimeWait);
        await account.Ask<ActorIdentity>(new Identify(1), Wait); // the overtime's end has been handled: idle, the refresh given up
        Watch(account);

        // Its cluster entity moves (sharding's hand-off); the given-up refresh answers afterwards. Before, the actor stopped
        // at once and the answer's rotated refresh token went to dead letters.
        accounts.Tell(AccountHandOff.Instance);
        await account.Ask<ActorIdentity>(new Identify(2), Wait); // the hand-off has been handled
        account.Tell(new CodeExchanged(refresh.RequestId, LateTokens()), providers.Ref);

        ExpectTerminated(account, Wait);
        Assert.Equal("rt-late", (await store.Inner.LoadAsync(Alice))!.Tokens.RefreshToken);
        Assert.False(providers.HasMessages); // no second refresh
    }

    [Fact]
    public async Task A_hand_off_waits_for_a_refresh_it_gave_up_no_longer_than_a_renewal()
    {
        var (_, _, _, accounts, account, _, settings) = await RefreshOutlivingItsRenewalAsync();
        Clock.Advance(settings.OvertimeWait);
        await account.Ask<ActorIdentity>(new Identify(1), Wait);
        Watch(account);

        accounts.Tell(AccountHandOff.Instance);
        await account.Ask<ActorIdentity>(new Identify(2), Wait);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // still waiting for the answer
        // The answer never comes: the entity moves all the same once a renewal's length has passed.
        await EventFilter.Warning(contains: "stopped before a refresh it gave up answered").ExpectAsync(1, async () =>
        {
            Clock.Advance(settings.RenewalTimeout);
            await ExpectTerminatedAsync(account, Wait);
        }, Wait);
    }

    [Fact]
    public async Task A_hand_off_during_a_renewal_whose_refresh_never_answers_stops_the_account_by_its_hand_off_deadline()
    {
        var strategy = NewStrategy();
        var providers = CreateTestProbe();
        var settings = AccountTestSupport.Settings();
        var accounts = this.AccountsOver(new FlakyTokenStore(), providers.Ref, settings: settings);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        var caller = Get(accounts, Alice);
        providers.ExpectMsg<RefreshTokens>(Wait);
        var account = providers.LastSender;
        Watch(account);

        // Its cluster entity moves while the refresh is under way, and the provider never answers it.
        accounts.Tell(AccountHandOff.Instance);
        await AccountHasTakenAsync(accounts); // through the supervisor: the deadline counts from here
        Clock.Advance(settings.RenewalTimeout);
        Assert.Equal(LoginFailure.ExchangeTimeout, (await Assert.ThrowsAsync<AuthorizationFailedException>(() => caller)).Failure);
        await account.Ask<ActorIdentity>(new Identify(2), Wait); // in the renewal's overtime

        // Sharding's hand-off timeout and a leaving node's shutdown phases are derived from HandOffWait: the account stops
        // by then. Before, the overtime's end started a wait of a further renewal's length for the given-up refresh, and
        // sharding stopped the entity first (its rotated refresh token, should it have come, lost without a word).
        await EventFilter.Warning(contains: "stopped before a refresh it gave up answered").ExpectAsync(1, async () =>
        {
            Clock.Advance(settings.HandOffWait - settings.RenewalTimeout);
            await ExpectTerminatedAsync(account, Wait);
        }, Wait);
    }

    [Fact]
    public async Task An_account_that_stops_at_its_hand_off_deadline_keeps_the_lock_until_its_save_in_flight_lands()
    {
        var strategy = NewStrategy();
        var providers = CreateTestProbe();
        var store = new GatedTokenStore();
        var settings = AccountTestSupport.Settings();
        var accounts = this.AccountsOver(store, providers.Ref, settings: settings);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        _ = Get(accounts, Alice); // a caller whose wait starts the refresh
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait);
        var account = providers.LastSender;
        Watch(account);

        // The provider answers with a rotated refresh token; the store takes its time to write it.
        store.HoldSaves();
        var rotated = strategy.Issue("alice");
        account.Tell(new CodeExchanged(refresh.RequestId, rotated), providers.Ref);
        await AwaitConditionAsync(() => Task.FromResult(store.SavesWaiting == 1), Wait, Polling.Interval);

        // Its cluster entity moves, and the hand-off's deadline passes before the write lands: the actor stops.
        accounts.Tell(AccountHandOff.Instance);
        await AccountHasTakenAsync(accounts);
        Clock.Advance(settings.HandOffWait);
        await ExpectTerminatedAsync(account, Wait);

        // Its successor (here, or on the next node) must not read the copy the write replaces: the lock waits for it.
        using (var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.LockAsync(Alice, soon.Token));
        store.ReleaseSaves();
        await using (await store.LockAsync(Alice).WaitAsync(Wait))
            Assert.Equal(rotated.RefreshToken, (await store.LoadAsync(Alice))!.Tokens.RefreshToken);
    }
}
