namespace O8Actors.TestKit.Tests.Support;

/// <summary>
/// An <see cref="InMemoryTokenStore"/> whose reads of one chosen account the test can hold: what happens while that
/// account's store does not answer yet (a slow disk, a lock file held by another process).
/// </summary>
internal sealed class LoadHoldingStore : ITokenStore
{
    private readonly InMemoryTokenStore _inner = new();
    private readonly TaskCompletionSource _loadReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile OAuthAccount? _held;
    private volatile TaskCompletionSource? _gate;

    /// <summary>Holds every read of <paramref name="account"/> from now on until <see cref="Release"/>.</summary>
    public void Hold(OAuthAccount account)
    {
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _held = account;
    }

    /// <summary>Completes once a read of the held account is waiting.</summary>
    public Task LoadHeld => _loadReached.Task;

    /// <summary>Lets the held reads (and every later one) through.</summary>
    public void Release() => _gate?.TrySetResult();

    public async Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        if (_gate is { } gate && account == _held)
        {
            _loadReached.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
        }

        return await _inner.LoadAsync(account, cancellationToken);
    }

    public Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default) =>
        _inner.SaveAsync(account, tokens, expectedVersion, cancellationToken);

    public Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default) => _inner.RemoveAsync(account, cancellationToken);

    public Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default) =>
        _inner.ListAsync(provider, cancellationToken);

    public Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default) => _inner.LockAsync(account, cancellationToken);
}
