using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Providers;
using O8Actors.Runtime;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A provider that does not rotate refresh tokens (Google) answers a refresh without one, and the client keeps the one
/// it has (RFC 6749 section 6). The built-in strategies' token reader does so; a custom strategy (this one) returns the
/// answer as the provider sent it, and a caller of <see cref="IOAuthLogins.RefreshAsync"/> must still get a refresh
/// token to refresh with next time.
/// </summary>
public sealed class RefreshWithoutRotationTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private LoginClient Client(ProviderStrategy strategy)
    {
        var provider = Sys.ActorOf(ProviderActor.Props(strategy, () => new HttpClient(), maxConcurrentExchanges: 1, TimeSpan.FromSeconds(30)));
        var nobody = CreateTestProbe().Ref;
        return new LoginClient(Sys, new O8ActorRefs(nobody, provider, nobody, nobody, nobody, new AccountCache()), O8Options.FromConfig());
    }

    [Fact]
    public async Task A_refresh_answered_without_a_refresh_token_hands_the_caller_the_one_it_sent()
    {
        var strategy = new ScriptedStrategy("p") { Gated = false };
        var client = Client(strategy);

        var tokens = await client.RefreshAsync("p", "rt-kept").WaitAsync(Wait);

        Assert.Equal("token-rt-kept", tokens.AccessToken);
        Assert.Equal("rt-kept", tokens.RefreshToken);
        // And it works for the next refresh, as the same token.
        var again = await client.RefreshAsync("p", tokens.RefreshToken!).WaitAsync(Wait);
        Assert.Equal("rt-kept", again.RefreshToken);
        Assert.Equal(["rt-kept", "rt-kept"], strategy.Started);
    }

    [Fact]
    public async Task A_rotated_refresh_token_is_handed_back_as_issued()
    {
        var client = Client(new RotatingOnce("p"));

        var tokens = await client.RefreshAsync("p", "rt-old").WaitAsync(Wait);

        Assert.Equal("rt-new", tokens.RefreshToken);
    }

    /// <summary>An empty refresh token is none (the built-in reader takes it so): the caller keeps the one it sent.</summary>
    [Fact]
    public async Task A_refresh_answered_with_an_empty_refresh_token_hands_the_caller_the_one_it_sent()
    {
        var client = Client(new RotatingOnce("p", issued: ""));

        var tokens = await client.RefreshAsync("p", "rt-kept").WaitAsync(Wait);

        Assert.Equal("rt-kept", tokens.RefreshToken);
    }

    /// <summary>A strategy whose refresh returns no task fails the refresh saying so, not as a null reference.</summary>
    [Fact]
    public async Task A_strategy_whose_refresh_returns_no_task_fails_the_refresh_saying_so()
    {
        var client = Client(new RotatingOnce("p", noTask: true));

        var failed = await Assert.ThrowsAsync<TokenExchangeException>(() => client.RefreshAsync("p", "rt-old").WaitAsync(Wait));

        Assert.Contains("returned no task", failed.Message);
    }

    private sealed class RotatingOnce(string name, string issued = "rt-new", bool noTask = false) : ProviderStrategy
    {
        public override string Name => name;

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new($"https://{name}.test/authorize?state={context.State}");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            throw new NotSupportedException("Only refreshes in this test.");

        public override Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken) =>
            noTask ? null! : Task.FromResult(new TokenSet("at", "Bearer", RefreshToken: issued));
    }
}
