namespace O8Actors.Tests.Accounts;

/// <summary>An <see cref="InMemoryTokenStore"/> whose writes the test can hold, to see what happens before a write lands.</summary>
internal sealed class GatedTokenStore : ITokenStore
{
    private readonly InMemoryTokenStore _inner = new();
    private volatile TaskCompletionSource? _hold;
    private int _savesWaiting;
    private int _saves;

    public int SavesWaiting => Volatile.Read(ref _savesWaiting);

    /// <summary>Every save asked for, held or not.</summary>
    public int Saves => Volatile.Read(ref _saves);

    public void HoldSaves() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseSaves() => _hold?.TrySetResult();

    public Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default) => _inner.LoadAsync(account, cancellationToken);

    public async Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _saves);
        if (_hold is { } hold)
        {
            Interlocked.Increment(ref _savesWaiting);
            await hold.Task.WaitAsync(cancellationToken);
            Interlocked.Decrement(ref _savesWaiting);
        }

        return await _inner.SaveAsync(account, tokens, expectedVersion, cancellationToken);
    }

    public Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default) => _inner.RemoveAsync(account, cancellationToken);

    public Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default) =>
        _inner.ListAsync(provider, cancellationToken);

    public Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default) => _inner.LockAsync(account, cancellationToken);
}
