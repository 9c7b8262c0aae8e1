namespace O8Actors.Tests.Accounts;

/// <summary>An <see cref="InMemoryTokenStore"/> whose next reads, writes or removals fail (the disk or database is down for a while).</summary>
internal sealed class FlakyTokenStore : ITokenStore
{
    private int _failLoads;
    private int _failSaves;
    private int _failRemoves;
    private int _saves;
    private int _removes;
    private int _locks;

    public InMemoryTokenStore Inner { get; } = new();

    /// <summary>Failures are thrown by the call itself, as a store written without <c>async</c> throws, not returned as faulted tasks.</summary>
    public bool ThrowsAtOnce { get; init; }

    /// <summary>A lock wait runs until the lock is free whatever its token says (as a database's lock call may).</summary>
    public bool IgnoresLockCancellation { get; init; }

    private int _unreadable;

    /// <summary>
    /// The stored record no longer reads (a newer format, damage): reads and writes throw
    /// <see cref="StoredTokensUnreadableException"/> until a removal clears it, as O8Actors.Persistence's register does.
    /// </summary>
    public void MakeUnreadable() => Volatile.Write(ref _unreadable, 1);

    private bool Unreadable => Volatile.Read(ref _unreadable) == 1;

    private static Task<T> UnreadableRecord<T>() =>
        Task.FromException<T>(new StoredTokensUnreadableException("The stored tokens could not be read (format 2)."));

    /// <summary>The next <paramref name="count"/> reads throw.</summary>
    public void FailLoads(int count) => Volatile.Write(ref _failLoads, count);

    /// <summary>The next <paramref name="count"/> writes throw.</summary>
    public void FailSaves(int count) => Volatile.Write(ref _failSaves, count);

    /// <summary>The next <paramref name="count"/> removals throw.</summary>
    public void FailRemoves(int count) => Volatile.Write(ref _failRemoves, count);

    /// <summary>Every write asked for, failed or not.</summary>
    public int Saves => Volatile.Read(ref _saves);

    /// <summary>Every removal asked for, failed or not.</summary>
    public int Removes => Volatile.Read(ref _removes);

    /// <summary>Every lock asked for.</summary>
    public int Locks => Volatile.Read(ref _locks);

    /// <summary>Every read asked for.</summary>
    public int Loads => Volatile.Read(ref _loads);

    private int _loads;
    private TaskCompletionSource? _loadGate;

    /// <summary>Holds every read from now on until the returned gate is opened (a store that does not answer).</summary>
    public TaskCompletionSource HoldLoads() => Hold(ref _loadGate);

    private static TaskCompletionSource Hold(ref TaskCompletionSource? gateField)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref gateField, gate);
        return gate;
    }

    public Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _loads);
        if (Volatile.Read(ref _loadGate) is { } gate) return HeldLoadAsync(gate.Task, account);
        if (Unreadable) return UnreadableRecord<StoredTokens?>();
        return Interlocked.Decrement(ref _failLoads) >= 0 ? Failed<StoredTokens?>() : Inner.LoadAsync(account, cancellationToken);
    }

    private async Task<StoredTokens?> HeldLoadAsync(Task gate, OAuthAccount account)
    {
        await gate;
        return await Inner.LoadAsync(account);
    }

    public Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _saves);
        if (Unreadable) return UnreadableRecord<long?>();
        return Interlocked.Decrement(ref _failSaves) >= 0 ? Failed<long?>() : Inner.SaveAsync(account, tokens, expectedVersion, cancellationToken);
    }

    private Task<T> Failed<T>() => ThrowsAtOnce ? throw new IOException("The store is down.") : Task.FromException<T>(new IOException("The store is down."));

    /// <summary>Holds every removal from now on until the returned gate is opened.</summary>
    public TaskCompletionSource HoldRemoves() => Hold(ref _removeGate);

    private TaskCompletionSource? _removeGate;

    public async Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _removes);
        if (Volatile.Read(ref _removeGate) is { } gate) await gate.Task.WaitAsync(cancellationToken);
        if (Interlocked.Decrement(ref _failRemoves) >= 0) throw new IOException("The store is down.");
        await Inner.RemoveAsync(account, cancellationToken);
        Volatile.Write(ref _unreadable, 0);
    }

    public Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default) =>
        Inner.ListAsync(provider, cancellationToken);

    public Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _locks);
        return Inner.LockAsync(account, IgnoresLockCancellation ? CancellationToken.None : cancellationToken);
    }
}
