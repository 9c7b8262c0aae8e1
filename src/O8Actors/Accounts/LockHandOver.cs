namespace O8Actors.Accounts;

/// <summary>
/// The refresh-lock handles an account's actor has been granted but not yet received, so that none outlives the actor.
/// </summary>
/// <remarks>
/// A lock is waited for off the actor and its handle piped to it. Stopped meanwhile, the actor never receives the
/// handle: the in-memory store's lock would then be held for as long as the process runs (every later refresh of the
/// account waiting out its lock wait and failing), a file store's until the handle is collected. So a wait is
/// cancelled when the actor stops, and a handle granted after that (by a store that does not honour the cancellation,
/// or in the moment between) is released at once.
/// </remarks>
internal sealed class LockHandOver : IDisposable
{
    private readonly HashSet<IAsyncDisposable> _inFlight = new(ReferenceEqualityComparer.Instance);
    private readonly CancellationTokenSource _stopped = new();
    private bool _closed;

    /// <summary>Cancelled when the actor stops: a lock wait ends then.</summary>
    public CancellationToken Stopped => _stopped.Token;

    /// <summary>Waits for the account's lock for at most <paramref name="wait"/>, or until the actor stops.</summary>
    /// <exception cref="OperationCanceledException">The wait ran out, or the actor stopped (its handle, if granted, released).</exception>
    public async Task<IAsyncDisposable> LockAsync(ITokenStore store, OAuthAccount account, TimeSpan wait)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Stopped);
        cts.CancelAfter(wait);
        var handle = await store.LockAsync(account, cts.Token).ConfigureAwait(false);
        lock (_inFlight)
        {
            if (!_closed)
            {
                _inFlight.Add(handle);
                return handle;
            }
        }

        await handle.DisposeAsync().ConfigureAwait(false);
        throw new OperationCanceledException("The account's actor stopped while it waited for the refresh lock.");
    }

    /// <summary>The actor has the handle now (held, or released by it as stale).</summary>
    public void Received(IAsyncDisposable handle)
    {
        lock (_inFlight) _inFlight.Remove(handle);
    }

    /// <summary>At the actor's stop: ends the waits and returns the handles granted but never received, to release.</summary>
    public IReadOnlyList<IAsyncDisposable> Close()
    {
        List<IAsyncDisposable> unreceived;
        lock (_inFlight)
        {
            _closed = true;
            unreceived = [.. _inFlight];
            _inFlight.Clear();
        }

        _stopped.Cancel();
        return unreceived;
    }

    /// <inheritdoc />
    public void Dispose() => _stopped.Dispose();
}
