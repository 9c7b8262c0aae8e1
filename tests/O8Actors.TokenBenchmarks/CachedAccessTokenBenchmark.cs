using BenchmarkDotNet.Attributes;

namespace O8Actors.TokenBenchmarks;

/// <summary>
/// <c>GetAccessTokenAsync</c> for an account whose token is cached and valid (target: at most 1 µs and one allocation),
/// beside the same request through the account's actor (scopes given, so the fast path does not apply).
/// </summary>
[MemoryDiagnoser]
public class CachedAccessTokenBenchmark
{
    private static readonly OAuthAccount Account = new("bench", "default");
    private static readonly IReadOnlyList<string> NoScopes = [];
    private OAuthLogins _logins = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var store = new InMemoryTokenStore();
        await store.SaveAsync(Account, new TokenSet("access", "Bearer", DateTimeOffset.UtcNow.AddDays(1), "refresh"), 0);
        _logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Scheme = "http"; // no certificate needed: the listener takes no callback here
            setup.Options.Listener.Port = 0;
            setup.TokenStore = store;
        });
        // The first request loads the account into its actor, which publishes the token for the fast path.
        await _logins.GetAccessTokenAsync(Account);
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _logins.DisposeAsync();

    /// <summary>The fast path: answered from what the account's actor published, without a message.</summary>
    [Benchmark(Baseline = true)]
    public Task<AccessToken> Cached() => _logins.GetAccessTokenAsync(Account);

    /// <summary>The same token asked of the account's actor (an Ask and its reply).</summary>
    [Benchmark]
    public async Task<AccessToken> ThroughTheActor() => await _logins.GetAccessTokenAsync(Account, NoScopes);
}
