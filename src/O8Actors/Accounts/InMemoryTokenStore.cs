namespace O8Actors;

/// <summary>
/// Tokens in this process's memory only: for tests, and for servers that accept signing their users in again after a
/// restart. Thread-safe; versions and locks behave as <see cref="ITokenStore"/> describes.
/// </summary>
public sealed class InMemoryTokenStore : ITokenStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<OAuthAccount, StoredTokens> _tokens = [];
    private readonly Accounts.AccountLocks _locks = new();

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
        return await _locks.TakeAsync(account, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many accounts have their refresh lock held or waited for (the others hold no memory for it).</summary>
    internal int LocksInUse => _locks.Count;
}
