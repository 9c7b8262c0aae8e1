namespace O8Actors.Accounts;

/// <summary>
/// The refresh locks of a store that lives in one process (<see cref="InMemoryTokenStore"/>, the database store): one
/// per account, and only while it is held or waited for.
/// </summary>
/// <remarks>
/// A lock per account kept for good (a dictionary of semaphores) held one entry for every account the process ever
/// touched, a login, a refresh, a sign-out or a back-channel logout naming an unknown user: on a server, memory that grew
/// with its users for as long as it ran, where the accounts' actors themselves retire when idle.
/// </remarks>
internal sealed class AccountLocks
{
    private readonly Lock _gate = new();
    private readonly Dictionary<OAuthAccount, Entry> _entries = [];

    /// <summary>How many accounts have a lock held or waited for.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _entries.Count;
        }
    }

    /// <summary>Takes <paramref name="account"/>'s lock, waiting while another holder has it; dispose the result to release it.</summary>
    public async Task<IAsyncDisposable> TakeAsync(OAuthAccount account, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        Entry entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(account, out entry!)) _entries[account] = entry = new Entry();
            entry.Users++;
        }

        try
        {
            await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Leave(account, entry);
            throw;
        }

        return new Held(this, account, entry);
    }

    private void Leave(OAuthAccount account, Entry entry)
    {
        lock (_gate)
        {
            if (--entry.Users == 0) _entries.Remove(account);
        }
    }

    /// <summary>An account's lock and how many hold it or wait for it (under the gate).</summary>
    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Users { get; set; }
    }

    /// <summary>A held lock; released once, however often it is disposed.</summary>
    private sealed class Held(AccountLocks owner, OAuthAccount account, Entry entry) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                entry.Gate.Release();
                owner.Leave(account, entry);
            }

            return ValueTask.CompletedTask;
        }
    }
}
