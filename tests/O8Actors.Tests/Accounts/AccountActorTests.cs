using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// The account actors behind <c>GetAccessTokenAsync</c>: cache, single-flight refresh, refresh margin (virtual time),
/// rotation stored first, <c>invalid_grant</c>, interactive renewal and sign-out.
/// </summary>
public sealed partial class AccountActorTests() : TestKit(ConfigurationFactory.ParseString(
    """
    akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
    akka.loglevel = DEBUG
    """))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly OAuthAccount Alice = new("p", "alice");
    private static readonly O8Settings.LoginSettings Login = new(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10), true, 100, 16);

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private RotatingStrategy NewStrategy(string name = "p", TimeSpan? lifetime = null, bool revokes = true) =>
        new(name, () => Sys.Scheduler.Now) { Lifetime = lifetime ?? TimeSpan.FromHours(1), Revokes = revokes };

    private async Task<IActorRef> Accounts(ProviderStrategy strategy, ITokenStore store, IActorRef? flows = null, TimeSpan? margin = null, string? name = null,
        AccountCache? cache = null, bool serverMode = false)
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 32, Login.ExchangeTimeout));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait);
        var settings = new AccountSettings(margin ?? TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login, cache) { ServerMode = serverMode };
        return Sys.ActorOf(AccountsSupervisor.Props(store, registry, flows ?? CreateTestProbe().Ref, settings), name);
    }

    private static Task<AccessToken> Get(IActorRef accounts, OAuthAccount account, AccessTokenOptions? options = null, IReadOnlyList<string>? scopes = null) =>
        accounts.Ask<AccessToken>(new GetAccessToken(account, scopes, options ?? AccessTokenOptions.Silent), Wait);

    private static async Task Remember(IActorRef accounts, OAuthAccount account, TokenSet tokens) =>
        Assert.Equal(account, (await accounts.Ask<LoginRemembered>(new RememberLogin(account, tokens), Wait)).Account);

    /// <summary>Alice signed in, her access token expired and her refresh token revoked at the provider: the next refresh is refused.</summary>
    private async Task<(RotatingStrategy Strategy, TestProbe Flows, IActorRef Accounts)> RefreshRefusedAsync(bool serverMode = false)
    {
        var strategy = NewStrategy();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), flows.Ref, serverMode: serverMode);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        strategy.RevokeAll();
        return (strategy, flows, accounts);
    }

    /// <summary>Returns once Alice's account actor has taken every message sent to the supervisor before the call.</summary>
    private async Task AccountHasTakenAsync(IActorRef accounts)
    {
        // Both actors answer Identify in mailbox order: the supervisor has forwarded what came before, then the account has taken it.
        var account = await LiveAccountActorAsync(accounts);
        await accounts.Ask<ActorIdentity>(new Identify(2), Wait);
        await account.Ask<ActorIdentity>(new Identify(3), Wait);
    }

    /// <summary>
    /// The account's live actor. Once the clock has moved past the idle time the actor that served the first login retires
    /// and the supervisor makes the next one; a selection that reaches the retired one while it is still stopping is
    /// answered for it by dead letters, with no actor, so ask again until the live one answers.
    /// </summary>
    private async Task<IActorRef> LiveAccountActorAsync(IActorRef accounts)
    {
        IActorRef? live = null;
        await AwaitAssertAsync(async () =>
        {
            live = (await Sys.ActorSelection(accounts.Path / "*").Ask<ActorIdentity>(new Identify(1), Wait)).Subject;
            Assert.NotNull(live);
        }, Wait);
        return live!;
    }

    /// <summary>Alice's first login, its tokens' write held in the store until the test releases it.</summary>
    private async Task<(RotatingStrategy Strategy, GatedTokenStore Store, IActorRef Accounts, Task First)> FirstLoginBeingWrittenAsync()
    {
        var strategy = NewStrategy();
        var store = new GatedTokenStore();
        var accounts = await Accounts(strategy, store);
        store.HoldSaves();
        var first = Remember(accounts, Alice, strategy.Issue("alice"));
        await AwaitConditionAsync(() => Task.FromResult(store.SavesWaiting == 1), Wait);
        return (strategy, store, accounts, first);
    }

    [Fact]
    public async Task Logins_of_one_account_that_end_during_a_save_are_stored_once_with_the_newest_tokens_and_all_answered()
    {
        var (strategy, store, accounts, first) = await FirstLoginBeingWrittenAsync();
        // 50 more logins of the same user end while the first one's tokens are being written.
        var later = Enumerable.Range(0, 50).Select(_ => strategy.Issue("alice")).ToList();
        List<Task> answers = [];
        // Released only once every one of them has reached the account actor and queued.
        await EventFilter.Debug(contains: "ended during a renewal").ExpectAsync(50, () =>
        {
            answers.AddRange(later.Select(tokens => Remember(accounts, Alice, tokens)));
            return Task.CompletedTask;
        }, Wait);
        store.ReleaseSaves();

        await first;
        await Task.WhenAll(answers);
        // One write for the first login and one for the 50 that queued behind it, not 51.
        Assert.Equal(2, store.Saves);
        Assert.Equal(later[^1].AccessToken, (await store.LoadAsync(Alice))!.Tokens.AccessToken);
        Assert.Equal(later[^1].AccessToken, (await Get(accounts, Alice)).Token);
    }

    [Fact]
    public async Task A_sign_out_between_two_logins_of_one_account_keeps_their_order()
    {
        var (strategy, store, accounts, first) = await FirstLoginBeingWrittenAsync();
        var signOut = SignOutAlice(accounts);
        var second = strategy.Issue("alice");
        var secondRemembered = Remember(accounts, Alice, second);
        store.ReleaseSaves();

        await first;
        await signOut;
        await secondRemembered;
        // Login, sign-out, login, in that order: the account is signed in with the second login's tokens.
        Assert.Equal(second.AccessToken, (await store.LoadAsync(Alice))!.Tokens.AccessToken);
    }

    [Fact]
    public async Task A_valid_token_is_served_from_the_cache_without_a_refresh()
    {
        var strategy = NewStrategy();
        var accounts = await Accounts(strategy, new InMemoryTokenStore());
        await Remember(accounts, Alice, strategy.Issue("alice"));

        var first = await Get(accounts, Alice);
        var second = await Get(accounts, Alice);

        Assert.Equal("at-1", first.Token);
        Assert.Same(first, second);
        Assert.Equal(0, strategy.Refreshes);
    }

    [Fact]
    public async Task The_fast_path_holds_a_stored_token_while_it_is_fresh_and_never_after_sign_out()
    {
        var strategy = NewStrategy();
        var cache = new AccountCache();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), cache: cache);
        await Remember(accounts, Alice, strategy.Issue("alice"));

        Assert.True(cache.TryGet(Alice, Clock.Now, out var fresh));
        Assert.Equal("at-1", (await fresh).Token);
        Assert.False(cache.TryGet(Alice, Clock.Now + TimeSpan.FromMinutes(56), out _)); // inside the 5-minute margin
        Clock.Advance(TimeSpan.FromMinutes(56));
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
        Assert.True(cache.TryGet(Alice, Clock.Now, out var refreshed));
        Assert.Equal("at-2", (await refreshed).Token);

        await SignOutAlice(accounts);
        Assert.False(cache.TryGet(Alice, Clock.Now, out _));
    }

    [Fact]
    public async Task An_idle_account_is_retired_and_served_again_from_the_store()
    {
        var strategy = NewStrategy(lifetime: TimeSpan.FromDays(1));
        var cache = new AccountCache();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), cache: cache);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        var first = await Get(accounts, Alice);
        var actor = await Sys.ActorSelection(accounts.Path / "account-*").ResolveOne(Wait);
        Watch(actor);

        Clock.Advance(TimeSpan.FromMinutes(31));

        ExpectTerminated(actor, Wait);
        Assert.False(cache.TryGet(Alice, Clock.Now, out _));
        var again = await Get(accounts, Alice);
        Assert.Equal(first.Token, again.Token);
        Assert.Equal(0, strategy.Refreshes);
    }

    [Fact]
    public async Task Hundred_concurrent_callers_at_expiry_cause_exactly_one_refresh()
    {
        var strategy = NewStrategy();
        var store = new InMemoryTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        strategy.Hold();

        var callers = Enumerable.Range(0, 100).Select(_ => Get(accounts, Alice)).ToArray();
        AwaitCondition(() => strategy.Refreshes == 1, Wait);
        Assert.DoesNotContain(callers, c => c.IsCompleted);
        strategy.Release();
        var tokens = await Task.WhenAll(callers);

        Assert.Equal(1, strategy.Refreshes);
        Assert.All(tokens, t => Assert.Equal("at-2", t.Token));
        Assert.Equal(0, strategy.Replays);
        Assert.Equal("rt-2", (await store.LoadAsync(Alice))!.Tokens.RefreshToken);
    }

    [Fact]
    public async Task The_token_is_refreshed_once_it_is_within_the_refresh_margin_of_expiry()
    {
        var strategy = NewStrategy();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), margin: TimeSpan.FromMinutes(5));
        await Remember(accounts, Alice, strategy.Issue("alice"));

        Clock.Advance(TimeSpan.FromMinutes(54));
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Assert.Equal(0, strategy.Refreshes);

        Clock.Advance(TimeSpan.FromMinutes(2)); // 4 minutes left: inside the margin, not yet expired
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
        Assert.Equal(1, strategy.Refreshes);
    }

    [Fact]
    public async Task A_token_shorter_lived_than_the_margin_is_served_for_half_its_lifetime()
    {
        var strategy = NewStrategy(lifetime: TimeSpan.FromSeconds(10));
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), margin: TimeSpan.FromMinutes(5));
        await Remember(accounts, Alice, strategy.Issue("alice"));

        Clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
        Assert.Equal(1, strategy.Refreshes);
    }

    [Fact]
    public async Task Force_refresh_refreshes_a_valid_token()
    {
        var strategy = NewStrategy();
        var accounts = await Accounts(strategy, new InMemoryTokenStore());
        await Remember(accounts, Alice, strategy.Issue("alice"));

        var token = await Get(accounts, Alice, new AccessTokenOptions(ForceRefresh: true));

        Assert.Equal("at-2", token.Token);
        Assert.Equal(1, strategy.Refreshes);
    }

    /// <summary>
    /// The first request after a start (or after the account's actor retired, or its cluster entity moved) finds the
    /// actor without the store read yet: a forced refresh must still refresh, not be answered by the stored token the
    /// caller asked to replace.
    /// </summary>
    [Fact]
    public async Task A_forced_refresh_before_the_account_read_the_store_refreshes_the_stored_token()
    {
        var strategy = NewStrategy();
        var store = new InMemoryTokenStore();
        await store.SaveAsync(Alice, strategy.Issue("alice"), 0); // an earlier run's tokens, still valid
        var accounts = await Accounts(strategy, store);

        var token = await Get(accounts, Alice, new AccessTokenOptions(ForceRefresh: true));

        Assert.Equal("at-2", token.Token);
        Assert.Equal(1, strategy.Refreshes);
        Assert.Equal("rt-2", (await store.LoadAsync(Alice))!.Tokens.RefreshToken);
    }

    [Fact]
    public async Task A_rotated_refresh_token_is_stored_before_the_new_access_token_is_handed_out()
    {
        var strategy = NewStrategy();
        var store = new GatedTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        store.HoldSaves();
        var caller = CreateTestProbe();

        caller.Send(accounts, new GetAccessToken(Alice, null, AccessTokenOptions.Silent));
        AwaitCondition(() => store.SavesWaiting == 1, Wait);

        // The provider has rotated (rt-1 is spent), the write of rt-2 is pending: nothing is handed out yet.
        Assert.Equal(1, strategy.Refreshes);
        caller.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal("rt-1", (await store.LoadAsync(Alice))!.Tokens.RefreshToken);

        store.ReleaseSaves();
        Assert.Equal("at-2", caller.ExpectMsg<AccessToken>(Wait).Token);
        var stored = await store.LoadAsync(Alice);
        Assert.Equal(("rt-2", 2L), (stored!.Tokens.RefreshToken, stored.Version));
    }

    [Fact]
    public async Task A_refresh_answered_without_an_ID_token_keeps_the_accounts_own()
    {
        // A provider may leave the ID token out of a refresh (OpenID Connect Core 1.0 section 12.2), and O8Actors leaves
        // out one it could not check (its key set down): the account still knows whose tokens these are.
        var strategy = NewStrategy();
        var store = new InMemoryTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        strategy.RefreshSubject = null;

        var token = await Get(accounts, Alice, new AccessTokenOptions(ForceRefresh: true));

        Assert.Equal(("at-2", "alice"), (token.Token, token.IdTokenSubject));
        Assert.Equal("alice", (await store.LoadAsync(Alice))!.Tokens.IdTokenClaims?.Subject);
    }

    [Fact]
    public async Task A_refresh_whose_id_token_names_another_user_fails_and_the_account_keeps_its_tokens()
    {
        var strategy = NewStrategy();
        var store = new InMemoryTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        strategy.RefreshSubject = "alice";
        Assert.Equal(("at-2", "alice"), await Forced());

        // The provider's refresh answer carries an ID token for another user (OpenID Connect Core 1.0 section 12.2).
        strategy.RefreshSubject = "mallory";
        var error = await Assert.ThrowsAsync<TokenExchangeException>(Forced);

        // The refused ID token is told apart by type, not only by the message's words.
        Assert.Contains("(sub)", Assert.IsType<IdTokenValidationException>(error.InnerException).Message, StringComparison.Ordinal);
        Assert.Contains("(sub)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("mallory", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("rt-", error.Message, StringComparison.Ordinal);
        var stored = (await store.LoadAsync(Alice))!.Tokens;
        Assert.Equal(("at-2", "alice"), (stored.AccessToken, stored.IdTokenClaims?.Subject));
        Assert.Equal(2, strategy.Refreshes);

        async Task<(string, string?)> Forced()
        {
            var token = await Get(accounts, Alice, new AccessTokenOptions(ForceRefresh: true));
            return (token.Token, token.IdTokenSubject);
        }
    }

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
            await AwaitConditionAsync(() => Task.FromResult(store.Locks == 3), Wait); // the first login's, the refresh's, this one's
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
        AccountSettings Settings)> RefreshOutlivingItsRenewalAsync()
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var providers = CreateTestProbe();
        var settings = new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login);
        var accounts = Sys.ActorOf(AccountsSupervisor.Props(store, providers.Ref, CreateTestProbe().Ref, settings));
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));

        var renewalStarts = Clock.Now;
        var caller = Get(accounts, Alice);
        var refresh = providers.ExpectMsg<RefreshTokens>(Wait);
        // The provider actor drops it unsent once a token request sent then would be answered after the renewal gave up.
        Assert.Equal(renewalStarts + settings.RenewalTimeout - ExchangeTimeouts.LoginDeadline(settings.ExchangeTimeout), refresh.Deadline);
        var account = providers.LastSender;
        // The provider answers later than the renewal waits (a long queue, a slow endpoint, a starved thread pool).
        Clock.Advance(settings.RenewalTimeout);
        // Its caller still hears of the timeout at once.
        Assert.Equal(LoginFailure.ExchangeTimeout, (await Assert.ThrowsAsync<AuthorizationFailedException>(() => caller)).Failure);
        await account.Ask<ActorIdentity>(new Identify(0), Wait); // the timeout has been handled
        return (strategy, store, providers, accounts, account, refresh, settings);
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
        var settings = new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login);
        var accounts = Sys.ActorOf(AccountsSupervisor.Props(new FlakyTokenStore(), providers.Ref, CreateTestProbe().Ref, settings));
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
        var settings = new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login);
        var accounts = Sys.ActorOf(AccountsSupervisor.Props(store, providers.Ref, CreateTestProbe().Ref, settings));
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
        await AwaitConditionAsync(() => Task.FromResult(store.SavesWaiting == 1), Wait);

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

    [Fact]
    public async Task A_refresh_whose_stored_file_stopped_decrypting_meanwhile_stores_and_serves_its_tokens()
    {
        var folder = Path.Combine(Path.GetTempPath(), "o8-account-file-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new FileTokenStore(folder);
            var providers = CreateTestProbe();
            var settings = new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login);
            var accounts = Sys.ActorOf(AccountsSupervisor.Props(store, providers.Ref, CreateTestProbe().Ref, settings));
            await Remember(accounts, Alice, NewStrategy().Issue("alice"));
            Clock.Advance(TimeSpan.FromHours(1));

            var caller = Get(accounts, Alice);
            var refresh = providers.ExpectMsg<RefreshTokens>(Wait);
            // Between the renewal's read and its save the file stops decrypting (damaged, its key ring lost).
            await File.WriteAllBytesAsync(Assert.Single(Directory.EnumerateFiles(folder, "*.token")), "damaged"u8.ToArray());
            providers.LastSender.Tell(new CodeExchanged(refresh.RequestId, LateTokens()), providers.Ref);

            // The rotated tokens are stored over it and served, not dropped for "nothing stored; sign in first".
            Assert.Equal("at-late", (await caller).Token);
            Assert.Equal("rt-late", (await new FileTokenStore(folder).LoadAsync(Alice))!.Tokens.RefreshToken);
            Assert.Equal("at-late", (await Get(accounts, Alice)).Token);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_accounts_actor_that_stops_while_it_waits_for_the_refresh_lock_leaves_the_lock_free(bool storeIgnoresCancellation)
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore { IgnoresLockCancellation = storeIgnoresCancellation };
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));

        // Another holder (a second process) has the lock; the account's renewal waits for it.
        var other = await store.Inner.LockAsync(Alice);
        _ = Get(accounts, Alice);
        await AwaitConditionAsync(() => Task.FromResult(store.Locks == 2), Wait); // the login's, this renewal's
        var account = await LiveAccountActorAsync(accounts);
        Watch(account);
        Sys.Stop(account);
        ExpectTerminated(account, Wait);
        await other.DisposeAsync();

        // The stopped actor's wait ended with it, or the lock it was granted afterwards was given back: the next holder
        // (the account's next actor, or the other process) gets it at once, not after a wait that fails every refresh.
        using var deadline = new CancellationTokenSource(Wait);
        await using (await store.Inner.LockAsync(Alice, deadline.Token))
        {
        }
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
    }

    [Fact]
    public async Task A_sign_out_under_way_and_one_waiting_behind_it_are_answered_when_the_accounts_actor_stops()
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        var loadsBefore = store.Loads;
        store.HoldLoads();

        // The first sign-out waits on the store's read; the second waits behind it.
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        first.Send(accounts, new SignOut(Alice, SignOutOptions.Local));
        await AwaitConditionAsync(() => Task.FromResult(store.Loads > loadsBefore), Wait);
        second.Send(accounts, new SignOut(Alice, SignOutOptions.Local));
        var account = await LiveAccountActorAsync(accounts);
        await account.Ask<ActorIdentity>(new Identify(1), Wait); // the second sign-out has been taken in

        // The host stops: both callers hear so at once, instead of waiting out their asks (minutes) for Akka's timeout.
        Sys.Stop(accounts);
        Assert.Contains("stopped before it could answer", Assert.IsType<AuthorizationFailedException>(first.ExpectMsg<Status.Failure>(Wait).Cause).Message);
        Assert.Contains("stopped before it could answer", Assert.IsType<AuthorizationFailedException>(second.ExpectMsg<Status.Failure>(Wait).Cause).Message);
    }

    [Fact]
    public async Task A_refused_refresh_token_throws_InteractionRequiredException_without_the_token_in_the_message()
    {
        var (strategy, _, accounts) = await RefreshRefusedAsync();

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));

        Assert.Equal(InteractionReason.RefreshRefused, error.Reason);
        Assert.Equal(Alice, error.Account);
        Assert.Contains("invalid_grant", error.Message);
        Assert.DoesNotContain("rt-1", error.Message);
        Assert.DoesNotContain("at-1", error.Message);
    }

    [Fact]
    public async Task An_unknown_account_throws_InteractionRequiredException()
    {
        var accounts = await Accounts(NewStrategy(), new InMemoryTokenStore());

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));

        Assert.Equal(InteractionReason.NoAccount, error.Reason);
    }

    [Fact]
    public async Task A_refused_refresh_with_interaction_allowed_runs_one_login_for_every_interactive_caller()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();

        var first = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var second = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var silent = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        Assert.Equal(("p", "alice"), (start.Provider, start.Request.AccountKey));
        Assert.Equal(Alice, silent.Account);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));
        Assert.Equal("at-2", (await first).Token);
        Assert.Equal("at-2", (await second).Token);
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
    }

    /// <summary>
    /// Callers wait for one interactive login asking for different scopes: those who want its scopes (or name none) get
    /// its tokens; one who wants scopes they lack is not handed them (its API call would be refused) but renewed for in a
    /// round of its own, with the login's refresh token.
    /// </summary>
    [Fact]
    public async Task A_caller_asking_other_scopes_during_an_interactive_login_is_not_handed_its_tokens()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();

        var reader = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["read"]);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var otherReader = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["read"]);
        var anyScope = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var mailer = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["mail"]);
        await AccountHasTakenAsync(accounts);
        Assert.Equal(["read"], start.Request.Scopes!);

        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { Scope = "read" }));

        Assert.Equal(("at-2", "at-2", "at-2"), ((await reader).Token, (await otherReader).Token, (await anyScope).Token));
        // The mail caller's own round: a refresh asking for its scope, with the refresh token the login brought.
        Assert.Equal("at-3", (await mailer).Token);
        Assert.Equal(2, strategy.Refreshes);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// Two callers make the same call, their own login request naming scopes (its sign-in asks for those): the second,
    /// arriving during the login, gets its tokens as the first does, even when the provider granted fewer scopes than
    /// the call names; no round of its own would do better.
    /// </summary>
    [Fact]
    public async Task Callers_whose_own_login_would_ask_for_the_same_scopes_share_the_interactive_login()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var options = new AccessTokenOptions(AllowInteraction: true, Login: new AuthorizationRequest(["openid", "api://b/.default"]));

        var first = Get(accounts, Alice, options, scopes: ["api://b/.default"]);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var second = Get(accounts, Alice, options, scopes: ["api://b/.default"]);
        await AccountHasTakenAsync(accounts);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { Scope = "openid" }));

        Assert.Equal(("at-2", "at-2"), ((await first).Token, (await second).Token));
        Assert.Equal(1, strategy.Refreshes); // the refused one only
    }

    /// <summary>
    /// The app's own login ends during a refresh that the provider then refuses: a caller waiting for other scopes than
    /// that login brought is not handed its tokens (the refused refresh was made for it, the login was not), but renewed
    /// for in a round of its own with the login's refresh token.
    /// </summary>
    [Fact]
    public async Task A_login_that_ended_during_a_refused_refresh_is_not_handed_to_a_caller_whose_scopes_it_lacks()
    {
        var (strategy, _, accounts) = await RefreshRefusedAsync();
        strategy.Hold();
        var mailer = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["mail"]);
        AwaitCondition(() => strategy.Refreshes == 1, Wait); // the refresh is at the provider, held

        var signedIn = strategy.Issue("alice"); // at-2, "read write"
        var remembered = accounts.Ask<LoginRemembered>(new RememberLogin(Alice, signedIn), Wait);
        await AccountHasTakenAsync(accounts);
        strategy.Release(); // refused: invalid_grant

        Assert.Equal(Alice, (await remembered).Account);
        Assert.Equal("at-3", (await mailer).Token);
        Assert.Equal(2, strategy.Refreshes);
    }

    /// <summary>
    /// The app's own login of the account ends while a refresh is under way, and the refresh is then refused: the callers
    /// get the login's tokens, stored once; no second login (a browser) is started, and the older login is not stored
    /// over the newer one afterwards.
    /// </summary>
    [Fact]
    public async Task A_login_that_ended_during_a_refused_refresh_serves_the_interactive_callers_instead_of_a_new_login()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        strategy.Hold();
        var interactive = Get(accounts, Alice, AccessTokenOptions.Interactive);
        AwaitCondition(() => strategy.Refreshes == 1, Wait); // the refresh is at the provider, held

        var signedIn = strategy.Issue("alice");
        var remembered = accounts.Ask<LoginRemembered>(new RememberLogin(Alice, signedIn), Wait);
        await AccountHasTakenAsync(accounts); // the account has queued the login's tokens
        strategy.Release(); // refused: invalid_grant

        Assert.Equal(signedIn.AccessToken, (await interactive).Token);
        Assert.Equal(Alice, (await remembered).Account);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // no login started
        Assert.Equal(signedIn.AccessToken, (await Get(accounts, Alice)).Token);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_login_an_interactive_caller_waits_for_asks_for_the_scopes_it_wants_a_token_for(bool ownLoginScopes)
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var options = ownLoginScopes
            ? new AccessTokenOptions(AllowInteraction: true, Login: new AuthorizationRequest(["openid", "api://b/.default"]))
            : AccessTokenOptions.Interactive;

        _ = Get(accounts, Alice, options, scopes: ["api://b/.default"]);

        // Its login request's own scopes win; without them, the login asks for what the caller wants a token for.
        var start = flows.ExpectMsg<StartFlow>(Wait);
        Assert.Equal(ownLoginScopes ? ["openid", "api://b/.default"] : ["api://b/.default"], start.Request.Scopes!);
    }

    [Fact]
    public async Task In_server_mode_a_refused_refresh_with_interaction_allowed_answers_interaction_required_and_starts_no_unbound_login()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync(serverMode: true);

        // The account has no browser to bind a login to: the app must sign the user in again from the user's request.
        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice, AccessTokenOptions.Interactive));

        Assert.Equal(InteractionReason.RefreshRefused, error.Reason);
        Assert.Equal(Alice, error.Account);
        Assert.Contains("IOAuthConnector.BeginAsync", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("rt-1", error.Message, StringComparison.Ordinal);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        // The account is not stuck in a login: a login the app bound and ran is taken, and served.
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
    }

    [Fact]
    public async Task An_interactive_login_as_someone_else_is_refused()
    {
        var strategy = NewStrategy();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), flows.Ref);

        var call = Get(accounts, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("bob")));

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => call);
        Assert.Equal(InteractionReason.AccountMismatch, error.Reason);
        // Bob's tokens are his: remembered under his account, not Alice's.
        await AwaitAssertAsync(async () => Assert.Equal("at-1", (await Get(accounts, new OAuthAccount("p", "bob"))).Token), Wait);
    }

    [Fact]
    public async Task Sign_out_revokes_the_refresh_and_access_tokens_and_forgets_the_account()
    {
        var strategy = NewStrategy();
        var store = new InMemoryTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        await Get(accounts, Alice);

        var result = await SignOutAlice(accounts);

        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.Equal([("rt-1", "refresh_token"), ("at-1", "access_token")], strategy.Revoked.Select(r => (r.Token, r.TokenTypeHint)));
        Assert.False(strategy.IsValid("rt-1"));
        Assert.Null(await store.LoadAsync(Alice));
        Assert.Empty((await accounts.Ask<AccountList>(new ListAccounts(null), Wait)).Accounts);
        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        Assert.Equal(InteractionReason.NoAccount, error.Reason);
    }

    [Fact]
    public async Task A_failed_revocation_is_reported_and_the_account_is_forgotten_all_the_same()
    {
        var strategy = NewStrategy();
        strategy.RevocationFails = true;
        var store = new InMemoryTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));

        var result = await SignOutAlice(accounts);

        Assert.Equal(RevocationOutcome.Failed, result.Revocation);
        Assert.Contains("down", result.Reason);
        Assert.Null(await store.LoadAsync(Alice));
    }

    [Fact]
    public async Task Sign_out_at_a_provider_without_revocation_says_so_and_forgets_the_account()
    {
        var strategy = NewStrategy(revokes: false);
        var store = new InMemoryTokenStore();
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, strategy.Issue("alice"));

        var result = await SignOutAlice(accounts);

        Assert.Equal(RevocationOutcome.NotSupported, result.Revocation);
        Assert.Null(await store.LoadAsync(Alice));
    }

    [Fact]
    public async Task An_account_signed_in_again_after_sign_out_is_served()
    {
        var strategy = NewStrategy();
        var accounts = await Accounts(strategy, new InMemoryTokenStore());
        await Remember(accounts, Alice, strategy.Issue("alice"));
        await SignOutAlice(accounts);

        await Remember(accounts, Alice, strategy.Issue("alice"));

        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
    }

    [Fact]
    public async Task Accounts_are_listed_per_provider()
    {
        var strategy = NewStrategy();
        var accounts = await Accounts(strategy, new InMemoryTokenStore());
        await Remember(accounts, Alice, strategy.Issue("alice"));
        await Remember(accounts, new OAuthAccount("p", "bob"), strategy.Issue("bob"));
        await Remember(accounts, new OAuthAccount("q", "carol"), strategy.Issue("carol"));

        var ofP = (await accounts.Ask<AccountList>(new ListAccounts("p"), Wait)).Accounts;
        var all = (await accounts.Ask<AccountList>(new ListAccounts(null), Wait)).Accounts;

        Assert.Equal([Alice, new OAuthAccount("p", "bob")], ofP.OrderBy(a => a.Key));
        Assert.Equal(3, all.Count);
    }

    /// <summary>
    /// A logout token naming a session only is sent to every account of the provider, to sign out those whose tokens are
    /// of that session. While alice's account reads her stored tokens to tell (a slow store, a lock held by another
    /// process), she is still signed in: her token is served, by her actor and on the fast path, and stays there once her
    /// tokens turn out to be of another session. Before, she was told she was signing out, and every later call went
    /// through the actor until the next refresh.
    /// </summary>
    [Fact]
    public async Task An_account_checked_by_the_logout_of_another_session_keeps_serving_its_token_on_the_fast_path()
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var cache = new AccountCache();
        var accounts = await Accounts(strategy, store, cache: cache);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        var loads = store.Loads;
        var gate = store.HoldLoads();

        var check = accounts.Ask<object>(new SignOut(Alice, SignOutOptions.Local, new EndedSession("bobs-session", AlsoWithoutSessionId: false)), Wait);
        await AwaitConditionAsync(() => Task.FromResult(store.Loads > loads), Wait);

        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Assert.True(cache.TryGet(Alice, Clock.Now, out _));
        gate.SetResult();
        Assert.IsType<SignOutSkipped>(await check);
        Assert.True(cache.TryGet(Alice, Clock.Now, out var after));
        Assert.Equal("at-1", (await after).Token);
        Assert.Equal(0, strategy.Refreshes);
        Assert.Empty(strategy.Revoked);
    }

    [Fact]
    public async Task After_the_logout_of_another_session_the_account_is_served_on_the_fast_path_again()
    {
        var strategy = NewStrategy();
        var cache = new AccountCache();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), cache: cache);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token); // served once: the actor has made (and published) it

        var check = await accounts.Ask<object>(new SignOut(Alice, SignOutOptions.Local, new EndedSession("bobs-session", AlsoWithoutSessionId: false)), Wait);

        Assert.IsType<SignOutSkipped>(check);
        Assert.True(cache.TryGet(Alice, Clock.Now, out var after));
        Assert.Equal("at-1", (await after).Token);
    }

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
        await AwaitConditionAsync(() => Task.FromResult(store.Removes == 2), Wait);
        Assert.NotNull(await store.Inner.LoadAsync(Alice));
        // The next retry is scheduled once that failure is handled, which the store's count does not show: advance until it has run.
        await AwaitAssertAsync(async () =>
        {
            Clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Null(await store.Inner.LoadAsync(Alice));
        }, Wait);
        Assert.Equal(InteractionReason.NoAccount, (await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice))).Reason);
    }

    private static Task<SignOutResult> SignOutAlice(IActorRef accounts) => accounts.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.Local), Wait);

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
        }, Wait);

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
        await AwaitConditionAsync(() => Task.FromResult(calls(store) == before + 1), Wait); // the sign-out's step, waiting
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
        }, Wait);
        gate.SetResult();
        await AwaitConditionAsync(async () =>
        {
            Clock.Advance(TimeSpan.FromMinutes(1));
            return await store.Inner.LoadAsync(Alice) is null;
        }, Wait);
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

    private static TimeSpan StoreCallWait => new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login).StoreCallWait;

    [Fact]
    public async Task A_login_after_a_failed_store_removal_replaces_the_signed_out_tokens_and_is_served()
    {
        var (strategy, store, accounts) = await SignedOutButNotRemovedAsync(revokes: false);

        await Remember(accounts, Alice, strategy.Issue("alice"));

        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);
        Assert.Equal("at-2", (await store.Inner.LoadAsync(Alice))!.Tokens.AccessToken);
    }

    /// <summary>
    /// Two "processes" over one folder (two file stores, each with its own accounts supervisor), Alice signed in and her
    /// access token expired, refreshes held: runs <paramref name="test"/> with the folder deleted afterwards.
    /// </summary>
    private async Task TwoProcessesOnOneFolderAsync(Func<RotatingStrategy, IActorRef, IActorRef, string, Task> test)
    {
        var folder = Directory.CreateTempSubdirectory("o8-tokens-").FullName;
        try
        {
            var strategy = NewStrategy();
            var one = await Accounts(strategy, new FileTokenStore(folder), name: "accounts-one");
            var two = await Accounts(strategy, new FileTokenStore(folder), name: "accounts-two");
            await Remember(one, Alice, strategy.Issue("alice"));
            Assert.Equal("at-1", (await Get(two, Alice)).Token);
            Clock.Advance(TimeSpan.FromHours(1));
            strategy.Hold();
            await test(strategy, one, two, folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public Task Two_processes_sharing_a_file_store_refresh_once_and_never_lose_a_rotation() =>
        TwoProcessesOnOneFolderAsync(async (strategy, one, two, folder) =>
        {
            var callers = Enumerable.Range(0, 50).SelectMany(_ => new[] { Get(one, Alice), Get(two, Alice) }).ToArray();
            AwaitCondition(() => strategy.Refreshes == 1, Wait);
            strategy.Release();
            var tokens = await Task.WhenAll(callers);

            Assert.Equal(1, strategy.Refreshes);
            Assert.Equal(0, strategy.Replays);
            Assert.All(tokens, t => Assert.Equal("at-2", t.Token));
            var stored = await new FileTokenStore(folder).LoadAsync(Alice);
            Assert.Equal(("rt-2", 2L), (stored!.Tokens.RefreshToken, stored.Version));
            Assert.True(strategy.IsValid("rt-2"));
        });

    [Fact]
    public Task A_sign_out_while_another_process_rotates_the_refresh_token_revokes_the_rotated_tokens_not_the_spent_ones() =>
        TwoProcessesOnOneFolderAsync(async (strategy, one, two, folder) =>
        {
            // The first process refreshes Alice's tokens (it holds the lock, rt-1 is being spent) while the second signs her out.
            var refreshed = Get(one, Alice);
            AwaitCondition(() => strategy.Refreshes == 1, Wait);
            Task<SignOutResult> signOut = null!;
            await EventFilter.Debug(contains: "taking the refresh lock").ExpectAsync(1, () =>
            {
                signOut = SignOutAlice(two);
                return Task.CompletedTask;
            }, Wait);
            strategy.Release();

            Assert.Equal("at-2", (await refreshed).Token);
            Assert.Equal(RevocationOutcome.Revoked, (await signOut).Revocation);
            // The live tokens were revoked: the rotated refresh token can no longer be spent by anyone.
            Assert.Equal(["rt-2", "at-2"], strategy.Revoked.Select(r => r.Token));
            Assert.False(strategy.IsValid("rt-2"));
            Assert.Null(await new FileTokenStore(folder).LoadAsync(Alice));
        });
}
