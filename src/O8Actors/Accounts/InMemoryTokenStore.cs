using System.Collections.Concurrent;

namespace O8Actors;

/// <summary>
/// Tokens in this process's memory only: for tests, and for servers that accept signing their users in again after a
/// restart. Thread-safe; versions and locks behave as <see cref="ITokenStore"/> describes.
/// </summary>
public sealed class InMemoryTokenStore : ITokenStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<OAuthAccount, StoredTokens> _tokens = [];
    private readonly ConcurrentDictionary<OAuthAccount, SemaphoreSlim> _locks = new();

    /// <inheritdoc />
    public Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        lock (_gate) return Task.FromResult(_tokens.GetValueOrDefault(account));
    }

    /// <inheritdoc />
    public Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(tokens);
        lock (_gate)
        {
            var current = _tokens.TryGetValue(account, out var stored) ? stored.Version : 0;
            if (current != expectedVersion) return Task.FromResult<long?>(null);
            _tokens[account] = new StoredTokens(tokens, current + 1);
            return Task.FromResult<long?>(current + 1);
        }
    }

    /// <inheritdoc />
    public Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        lock (_gate) _tokens.Remove(account);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<OAuthAccount>>(
                _tokens.Keys.Where(a => provider is null || a.Provider == provider).OrderBy(a => a.Id, StringComparer.Ordinal).ToList());
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var gate = _locks.GetOrAdd(account, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release();
            return ValueTask.CompletedTask;
        }
    }
}
