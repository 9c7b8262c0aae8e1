namespace O8Actors.Accounts;

/// <summary>
/// The app's <see cref="ITokenStore"/> as the accounts' actors call it: a method that throws instead of returning a faulted
/// task, or returns no task at all, fails its task like any other store failure.
/// </summary>
/// <remarks>
/// The actors call the store on their own thread and pipe the task's result back to themselves. A synchronous throw
/// there (a store written without <c>async</c> whose file write failed) escaped the actor's receive and stopped it: the
/// tokens a refresh had just been issued were dropped for the spent ones still stored, and a sign-out's caller was left
/// without an answer. Through this wrapper the same throw takes the path of a failed store (the issued tokens are kept
/// and served, the sign-out fails with its reason).
/// </remarks>
internal sealed class GuardedTokenStore : ITokenStore
{
    private readonly ITokenStore _store;

    private GuardedTokenStore(ITokenStore store) => _store = store;

    /// <summary><paramref name="store"/> guarded (once: a guarded store is returned as it is).</summary>
    public static ITokenStore Around(ITokenStore store) => store as GuardedTokenStore ?? new GuardedTokenStore(store);

    /// <inheritdoc />
    public Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        Call(() => _store.LoadAsync(account, cancellationToken), nameof(LoadAsync));

    /// <inheritdoc />
    public Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default) =>
        Call(() => _store.SaveAsync(account, tokens, expectedVersion, cancellationToken), nameof(SaveAsync));

    /// <inheritdoc />
    public Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        Call(async () =>
        {
            await (_store.RemoveAsync(account, cancellationToken) ?? throw NoTask(nameof(RemoveAsync))).ConfigureAwait(false);
            return true;
        }, nameof(RemoveAsync));

    /// <inheritdoc />
    public Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default) =>
        Call(() => _store.ListAsync(provider, cancellationToken), nameof(ListAsync));

    /// <inheritdoc />
    public async Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        new GuardedHandle(await Call(() => _store.LockAsync(account, cancellationToken), nameof(LockAsync)).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{_store.GetType().Name}.LockAsync returned no lock handle."));

    private Task<T> Call<T>(Func<Task<T>> call, string method)
    {
        try
        {
            return call() ?? Task.FromException<T>(NoTask(method));
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    private InvalidOperationException NoTask(string method) => new($"{_store.GetType().Name}.{method} returned no task.");

    /// <summary>A lock handle whose release fails its task rather than throwing on the actor's thread.</summary>
    private sealed class GuardedHandle(IAsyncDisposable handle) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            try
            {
                return handle.DisposeAsync();
            }
            catch (Exception e)
            {
                return ValueTask.FromException(e);
            }
        }
    }
}
