using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// Sign-out: revocation at the provider, the account forgotten and listed no more, and a back-channel logout of another
/// session that leaves the account as it was.
/// </summary>
public sealed partial class AccountActorTests
{
    /// <summary>
    /// A sign-out that comes while a refresh is at the provider waits for it; the refresh is refused, and the interactive
    /// caller would get a browser login: none is started (the sign-out would cancel it as it opened, and before this it
    /// waited out the whole login), the caller is told why, and the sign-out goes on at once.
    /// </summary>
    [Fact]
    public async Task A_sign_out_that_waits_for_a_refused_refresh_starts_no_interactive_login()
    {
        var (strategy, flows, accounts, interactive) = await InteractiveCallerWithRefreshHeldAsync();
        var signOut = SignOutAlice(accounts);
        await AccountHasTakenAsync(accounts);

        strategy.Release(); // refused: invalid_grant

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => interactive);
        Assert.Contains("is being signed out", error.Message);
        Assert.Equal(Alice, (await signOut).Account);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
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
        await AwaitConditionAsync(() => Task.FromResult(store.Loads > loads), Wait, Polling.Interval);

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
}
