namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// Values kept by key until an instant on the sandbox's clock, and forgotten at the first access from that instant on
/// (no timer: a server nobody calls holds what it held). So what a client starts and never finishes (a pushed request
/// never redeemed, a consent page never answered, a used identifier past its window) does not grow a long-running
/// test host without end. Thread-safe.
/// </summary>
/// <typeparam name="TValue">What is kept under each key.</typeparam>
internal sealed class ExpiringEntries<TValue>
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (TValue Value, DateTimeOffset ExpiresAt)> _entries = new(StringComparer.Ordinal);
    // Earliest end first, so forgetting looks only at what has ended.
    private readonly ExpiryQueue _ends = new();

    /// <summary>How many entries are kept (expired ones included until the next access forgets them).</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _entries.Count;
        }
    }

    /// <summary>Keeps <paramref name="value"/> until <paramref name="expiresAt"/> (excluded); false when <paramref name="key"/> is already kept.</summary>
    public bool TryAdd(string key, TValue value, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        lock (_gate)
        {
            Forget(now);
            if (!_entries.TryAdd(key, (value, expiresAt))) return false;
            _ends.Add(key, expiresAt);
            return true;
        }
    }

    /// <summary>The value kept under <paramref name="key"/>, left in place; false when there is none or it has expired.</summary>
    public bool TryGet(string? key, DateTimeOffset now, out TValue value)
    {
        lock (_gate)
        {
            Forget(now);
            if (key is not null && _entries.TryGetValue(key, out var entry))
            {
                value = entry.Value;
                return true;
            }

            value = default!;
            return false;
        }
    }

    /// <summary>Takes out the value kept under <paramref name="key"/>; false when there is none or it has expired.</summary>
    public bool TryRemove(string key, DateTimeOffset now, out TValue value)
    {
        lock (_gate)
        {
            Forget(now);
            if (_entries.Remove(key, out var entry))
            {
                value = entry.Value;
                return true;
            }

            value = default!;
            return false;
        }
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var key in _ends.TakeDue(now))
        {
            // The key may have been taken out and kept again since, with a later end: only its own end forgets it.
            if (_entries.TryGetValue(key, out var entry) && entry.ExpiresAt <= now) _entries.Remove(key);
        }
    }
}
