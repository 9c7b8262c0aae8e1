using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// The account actors behind <c>GetAccessTokenAsync</c>: cache, single-flight refresh, refresh margin (virtual time),
/// rotation stored first, <c>invalid_grant</c>, interactive renewal and sign-out. This file holds the set-up and the
/// serving and refresh tests; each other concern's tests are in a partial file of their own (<c>AccountActorTests.*.cs</c>).
/// </summary>
public sealed partial class AccountActorTests() : TestKit(ConfigurationFactory.ParseString(
    """
    akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
    akka.loglevel = DEBUG
    """))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly OAuthAccount Alice = new("p", "alice");

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private RotatingStrategy NewStrategy(string name = "p", TimeSpan? lifetime = null, bool revokes = true) =>
        new(name, () => Sys.Scheduler.Now) { Lifetime = lifetime ?? TimeSpan.FromHours(1), Revokes = revokes };

    private Task<IActorRef> Accounts(ProviderStrategy strategy, ITokenStore store, IActorRef? flows = null, TimeSpan? margin = null, string? name = null,
        AccountCache? cache = null, bool serverMode = false) =>
        this.AccountsAsync(strategy, store, flows, AccountTestSupport.Settings(margin, cache, serverMode), name);

    private static Task<AccessToken> Get(IActorRef accounts, OAuthAccount account, AccessTokenOptions? options = null, IReadOnlyList<string>? scopes = null) =>
        accounts.Ask<AccessToken>(new GetAccessToken(account, scopes, options ?? AccessTokenOptions.Silent), Wait);

    private static async Task Remember(IActorRef accounts, OAuthAccount account, TokenSet tokens) =>
        Assert.Equal(account, (await accounts.Ask<LoginRemembered>(new RememberLogin(account, tokens), Wait)).Account);

    /// <summary>Alice signed in, her access token expired and her refresh token revoked at the provider: the next refresh is refused.</summary>
    private async Task<(RotatingStrategy Strategy, TestProbe Flows, IActorRef Accounts)> RefreshRefusedAsync(bool serverMode = false, ITokenStore? store = null)
    {
        var strategy = NewStrategy();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, store ?? new InMemoryTokenStore(), flows.Ref, serverMode: serverMode);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        strategy.RevokeAll();
        return (strategy, flows, accounts);
    }

    /// <summary>As <see cref="RefreshRefusedAsync"/>, with an interactive caller whose refresh is at the provider, held until <c>Release</c>.</summary>
    private async Task<(RotatingStrategy Strategy, TestProbe Flows, IActorRef Accounts, Task<AccessToken> Interactive)> InteractiveCallerWithRefreshHeldAsync()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        strategy.Hold();
        var interactive = Get(accounts, Alice, AccessTokenOptions.Interactive);
        AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);
        return (strategy, flows, accounts, interactive);
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
        await AwaitConditionAsync(() => Task.FromResult(store.SavesWaiting == 1), Wait, Polling.Interval);
        return (strategy, store, accounts, first);
    }

    private static Task<SignOutResult> SignOutAlice(IActorRef accounts) => accounts.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.Local), Wait);

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
        AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);
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
        AwaitCondition(() => store.SavesWaiting == 1, Wait, Polling.Interval);

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

    [Fact]
    public async Task A_refresh_whose_stored_file_stopped_decrypting_meanwhile_stores_and_serves_its_tokens()
    {
        var folder = Path.Combine(Path.GetTempPath(), "o8-account-file-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new FileTokenStore(folder);
            var providers = CreateTestProbe();
            var accounts = this.AccountsOver(store, providers.Ref);
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
        await AwaitConditionAsync(() => Task.FromResult(store.Locks == 2), Wait, Polling.Interval); // the login's, this renewal's
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
        await AwaitConditionAsync(() => Task.FromResult(store.Loads > loadsBefore), Wait, Polling.Interval);
        second.Send(accounts, new SignOut(Alice, SignOutOptions.Local));
        // The second sign-out has been taken in: the supervisor has forwarded it (its mailbox is in order: the sign-out,
        // then this Identify), and the account has read it. An Identify sent to the account alone could overtake the
        // forward, and stopping the supervisor would then drop the sign-out still in its mailbox, unanswered.
        await accounts.Ask<ActorIdentity>(new Identify(1), Wait);
        var account = await LiveAccountActorAsync(accounts);
        await account.Ask<ActorIdentity>(new Identify(1), Wait);

        // The host stops: both callers hear so at once, instead of waiting out their asks (minutes) for Akka's timeout.
        Sys.Stop(accounts);
        Assert.Contains("stopped before it could answer", Assert.IsType<AuthorizationFailedException>(first.ExpectMsg<Status.Failure>(Wait).Cause).Message);
        Assert.Contains("stopped before it could answer", Assert.IsType<AuthorizationFailedException>(second.ExpectMsg<Status.Failure>(Wait).Cause).Message);
    }
}
