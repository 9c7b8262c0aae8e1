using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A renewal that fails for a reason that may pass (the token endpoint down, the store failing, the renewal's deadline)
/// while the account's token is inside its refresh margin but still valid: that token is served, and the next call
/// tries to renew again.
/// </summary>
public sealed partial class AccountActorTests
{
    /// <summary>Alice's one-hour token with 4 minutes left (inside the 5-minute margin), held by her account's actor; refreshes answer as <paramref name="strategy"/> does.</summary>
    private async Task<Akka.Actor.IActorRef> InsideTheMarginAsync(ProviderStrategy strategy, ITokenStore store)
    {
        var accounts = await Accounts(strategy, store);
        await Remember(accounts, Alice, new TokenSet("at-1", "Bearer", Clock.Now + TimeSpan.FromHours(1), "rt-1", "read"));
        // Asked now and then, so the account's actor that holds the token is not retired for idleness (30 minutes).
        Clock.Advance(TimeSpan.FromMinutes(28));
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Clock.Advance(TimeSpan.FromMinutes(28));
        return accounts;
    }

    [Fact]
    public async Task A_refresh_that_fails_inside_the_margin_serves_the_still_valid_token_and_the_next_call_tries_again()
    {
        var strategy = new DownStrategy("p");
        var accounts = await InsideTheMarginAsync(strategy, new InMemoryTokenStore());

        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Assert.Equal(1, strategy.Refreshes);
        // Still inside the margin: the next call renews again (and is served again while the endpoint is down).
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Assert.Equal(2, strategy.Refreshes);

        // Expired: nothing valid to serve, the failure is the caller's.
        Clock.Advance(TimeSpan.FromMinutes(5));
        await Assert.ThrowsAsync<TokenExchangeException>(() => Get(accounts, Alice));
    }

    /// <summary>
    /// No refresh token (an OpenID provider asked without <c>offline_access</c>): inside the refresh margin the token is
    /// still valid, so a silent caller gets it rather than a sign-in minutes early, with a message saying it expired.
    /// Once it has expired, the caller is told to sign in.
    /// </summary>
    [Fact]
    public async Task Without_a_refresh_token_the_still_valid_token_is_served_inside_the_margin_until_it_expires()
    {
        var strategy = NewStrategy();
        var accounts = await Accounts(strategy, new InMemoryTokenStore());
        await Remember(accounts, Alice, new TokenSet("at-1", "Bearer", Clock.Now + TimeSpan.FromHours(1), null, "read"));
        Clock.Advance(TimeSpan.FromMinutes(28));
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Clock.Advance(TimeSpan.FromMinutes(28));

        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);

        Clock.Advance(TimeSpan.FromMinutes(5));
        var expired = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        Assert.Equal(InteractionReason.NoRefreshToken, expired.Reason);
        Assert.Equal(0, strategy.Refreshes);
    }

    [Fact]
    public async Task A_forced_refresh_that_fails_fails_rather_than_serve_the_token_it_asked_to_replace()
    {
        var strategy = new DownStrategy("p");
        var accounts = await InsideTheMarginAsync(strategy, new InMemoryTokenStore());

        var forced = Get(accounts, Alice, new AccessTokenOptions(ForceRefresh: true));
        var plain = Get(accounts, Alice);

        await Assert.ThrowsAsync<TokenExchangeException>(() => forced);
        Assert.Equal("at-1", (await plain).Token);
        // A caller asking for a scope the token lacks is not served it either.
        await Assert.ThrowsAsync<TokenExchangeException>(() => Get(accounts, Alice, scopes: ["write"]));
    }

    [Fact]
    public async Task A_token_store_that_fails_inside_the_margin_serves_the_still_valid_token()
    {
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var accounts = await InsideTheMarginAsync(strategy, store);
        store.FailLoads(1);

        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        Assert.Equal(0, strategy.Refreshes);
    }

    [Fact]
    public async Task A_renewal_past_its_deadline_inside_the_margin_serves_the_still_valid_token()
    {
        var strategy = NewStrategy();
        var accounts = await InsideTheMarginAsync(strategy, new InMemoryTokenStore());
        strategy.Hold();
        // rt-1 was not issued by the strategy: the held refresh, once released, is refused (its answer is not this test's).
        var caller = Get(accounts, Alice);
        AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);

        Clock.Advance(AccountTestSupport.Settings().RenewalTimeout + TimeSpan.FromSeconds(1));

        Assert.Equal("at-1", (await caller).Token);
        strategy.Release();
    }

    [Fact]
    public async Task A_refresh_lock_another_process_holds_past_the_wait_is_named_in_the_callers_error()
    {
        var strategy = NewStrategy();
        var store = new InMemoryTokenStore();
        // A short exchange timeout: the lock's wait (6 s of real time here) follows from it.
        var settings = new AccountSettings(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1), AccountTestSupport.Login);
        var accounts = await this.AccountsAsync(strategy, store, settings: settings);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));

        // Another process (here: the test) holds Alice's refresh lock for longer than the account waits for it.
        await using var held = await store.LockAsync(Alice);
        var error = await Assert.ThrowsAsync<AuthorizationFailedException>(() =>
            accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), settings.LockWait + Wait));

        Assert.Contains("refresh lock was not granted", error.Message);
        Assert.DoesNotContain("Canceled", error.Message);
    }

    /// <summary>A provider whose token endpoint is down: every refresh fails as a request that found no server.</summary>
    private sealed class DownStrategy(string name) : ProviderStrategy
    {
        private int _refreshes;

        public int Refreshes => Volatile.Read(ref _refreshes);

        public override string Name => name;

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new($"https://{name}.test/authorize");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _refreshes);
            return Task.FromException<TokenSet>(new HttpRequestException("503 Service Unavailable"));
        }
    }
}
