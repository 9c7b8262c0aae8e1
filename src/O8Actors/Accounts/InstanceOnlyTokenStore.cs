namespace O8Actors;

/// <summary>
/// Every orchestrator's store, around the one configured: the accounts of providers that must not outlive their
/// flow instance (an <see cref="OAuthFlow"/> without a cache name, whose provider name is new each time) are kept in
/// memory only; every other account goes to the persistent store. Without it, each login of such a flow left an
/// encrypted file that no later instance could find, sign out or delete.
/// </summary>
internal sealed class InstanceOnlyTokenStore(ITokenStore persistent, Func<string, bool> isInstanceOnly) : ITokenStore
{
    private readonly InMemoryTokenStore _memory = new();

    private ITokenStore For(OAuthAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return isInstanceOnly(account.Provider) ? _memory : persistent;
    }

    /// <inheritdoc />
    public Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        For(account).LoadAsync(account, cancellationToken);

    /// <inheritdoc />
    public Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default) =>
        For(account).SaveAsync(account, tokens, expectedVersion, cancellationToken);

    /// <inheritdoc />
    public Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        For(account).RemoveAsync(account, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default)
    {
        if (provider is not null)
            return await (isInstanceOnly(provider) ? _memory : persistent).ListAsync(provider, cancellationToken).ConfigureAwait(false);
        var stored = await persistent.ListAsync(null, cancellationToken).ConfigureAwait(false);
        var kept = await _memory.ListAsync(null, cancellationToken).ConfigureAwait(false);
        return [.. stored, .. kept];
    }

    /// <inheritdoc />
    public Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        For(account).LockAsync(account, cancellationToken);
}
