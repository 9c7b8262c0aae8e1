using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// An account of a DPoP provider whose stored tokens have no key (stored before the provider turned <c>UseDpop</c> on,
/// or by a token store that drops <see cref="TokenSet.DpopKey"/>) is not refreshed as a bearer account: its refresh
/// token is not sent, and the caller is told to sign in again, with the reason.
/// </summary>
public sealed class DpopKeylessStoreTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Tokens_stored_without_their_DPoP_key_are_not_refreshed_unbound_and_the_caller_must_sign_in_again()
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.UseDpop = true;
            o.ConfigureLogins = setup => setup.TokenStore = new KeyDroppingStore();
        });
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        Assert.NotNull(tokens.DpopKey); // the login itself was bound; only the store lost the key
        var tokenRequests = o8.Sandbox.Counters.TokenRequests;

        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() =>
            o8.Logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait));

        // Before: the refresh token went out without a proof, as a bearer account's would (the sandbox refused it with
        // invalid_dpop_proof, a TokenExchangeException; a lenient server answers with a bearer token, which was taken).
        Assert.Equal(InteractionReason.NoDpopKey, error.Reason);
        Assert.Contains("No DPoP key is stored", error.Message);
        Assert.Equal(tokenRequests, o8.Sandbox.Counters.TokenRequests);
    }

    [Fact]
    public async Task A_still_valid_access_token_read_back_without_its_DPoP_key_is_not_served_and_the_caller_must_sign_in_again()
    {
        var store = new KeyDroppingStore();
        OAuthAccount account;
        await using (var first = await O8TestHarness.StartAsync(o =>
        {
            o.UseDpop = true;
            o.ConfigureLogins = setup => setup.TokenStore = store;
        }))
        {
            (account, _) = await HarnessAccounts.SignInAsync(first);
        }

        // The next run of the app reads the account back: its access token is valid for an hour, its key is gone.
        var stored = Assert.IsType<StoredTokens>(await store.LoadAsync(account));
        Assert.True(stored.Tokens.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(30));
        Assert.Null(stored.Tokens.DpopKey);
        await using var next = await O8TestHarness.StartAsync(o =>
        {
            o.UseDpop = true;
            o.ConfigureLogins = setup => setup.TokenStore = store;
        });

        // Before: the token was served (type DPoP, no key), and every API call with it failed in the handler or at the API.
        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => next.Logins.GetAccessTokenAsync(account).WaitAsync(Wait));
        Assert.Equal(InteractionReason.NoDpopKey, error.Reason);
        Assert.Equal(0, next.Sandbox.Counters.TokenRequests);
    }

    /// <summary>A store of the app's own that keeps everything but the DPoP key.</summary>
    private sealed class KeyDroppingStore : ITokenStore
    {
        private readonly InMemoryTokenStore _inner = new();

        public Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default) => _inner.LoadAsync(account, cancellationToken);

        public Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default) =>
            _inner.SaveAsync(account, tokens with { DpopKey = null }, expectedVersion, cancellationToken);

        public Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default) => _inner.RemoveAsync(account, cancellationToken);

        public Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default) =>
            _inner.ListAsync(provider, cancellationToken);

        public Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default) => _inner.LockAsync(account, cancellationToken);
    }
}
