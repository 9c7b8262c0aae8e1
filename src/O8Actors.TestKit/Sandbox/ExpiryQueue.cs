namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// Keys in the order they come due on the sandbox's clock, for a store that forgets what can no longer matter. Taken
/// out only when asked with the time (no timer: a server nobody calls holds what it held). Thread-safe.
/// </summary>
internal sealed class ExpiryQueue
{
    private static readonly List<string> None = [];
    private readonly Lock _gate = new();
    private readonly PriorityQueue<string, DateTimeOffset> _due = new();

    /// <summary>Puts <paramref name="key"/> in the queue, due at <paramref name="at"/>.</summary>
    public void Add(string key, DateTimeOffset at)
    {
        lock (_gate) _due.Enqueue(key, at);
    }

    /// <summary>
    /// Takes out every key due at <paramref name="now"/>, earliest first; an empty list (no allocation) when none is.
    /// A key may be added again (a later time) by whoever took it.
    /// </summary>
    public IReadOnlyList<string> TakeDue(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_due.TryPeek(out _, out var first) || first > now) return None;
            var taken = new List<string>();
            while (_due.TryPeek(out var key, out var at) && at <= now)
            {
                _due.Dequeue();
                taken.Add(key);
            }

            return taken;
        }
    }
}
