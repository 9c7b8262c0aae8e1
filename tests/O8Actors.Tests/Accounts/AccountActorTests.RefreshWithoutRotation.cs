using System.Collections.Concurrent;
using O8Actors.Accounts;
using O8Actors.Providers;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A provider that does not rotate refresh tokens (Google) answers a refresh without one: the account keeps the one it
/// has (RFC 6749 section 6), whatever strategy read the answer (a custom one, an OAuthFlow subclass, returns it as sent).
/// </summary>
public sealed partial class AccountActorTests
{
    [Fact]
    public async Task A_refresh_answered_without_a_refresh_token_keeps_the_one_the_account_has()
    {
        var strategy = new NonRotatingStrategy("p", () => Clock.Now);
        var accounts = await Accounts(strategy, new InMemoryTokenStore());
        await Remember(accounts, Alice, new TokenSet("at-0", "Bearer", Clock.Now + TimeSpan.FromHours(1), "rt-1", "read"));

        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("at-1", (await Get(accounts, Alice)).Token);
        // The second renewal is a refresh too, with the same refresh token (before: a sign-in, the token was dropped).
        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("at-2", (await Get(accounts, Alice)).Token);

        Assert.Equal(["rt-1", "rt-1"], strategy.RefreshedWith);
    }

    private sealed class NonRotatingStrategy(string name, Func<DateTimeOffset> clock) : ProviderStrategy
    {
        private int _issued;

        public ConcurrentQueue<string> RefreshedWith { get; } = new();

        public override string Name => name;

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new($"https://{name}.test/authorize?state={context.State}");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            throw new NotSupportedException("Only refreshes in this test.");

        public override Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
        {
            RefreshedWith.Enqueue(context.RefreshToken);
            // As Google answers: a new access token and no refresh token.
            return Task.FromResult(new TokenSet($"at-{Interlocked.Increment(ref _issued)}", "Bearer", clock() + TimeSpan.FromHours(1)));
        }
    }
}
