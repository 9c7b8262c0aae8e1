namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// The identifiers (<c>jti</c>) of accepted DPoP proofs or client assertions, each accepted once. An identifier is kept
/// as long as what carried it could still be accepted (a proof's <c>iat</c> window, an assertion's <c>exp</c>) and
/// forgotten after: a replay by then is refused for its age, so a long-running test host does not grow without end.
/// Thread-safe.
/// </summary>
internal sealed class ReplayCache
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    // Earliest end first, so forgetting looks only at what has ended.
    private readonly PriorityQueue<string, DateTimeOffset> _ends = new();

    /// <summary>How many identifiers are kept.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _seen.Count;
        }
    }

    /// <summary>
    /// True the first time <paramref name="id"/> is used, false for a replay. <paramref name="acceptableUntil"/> is the
    /// last instant its carrier could be accepted; the identifier is kept at least until then.
    /// </summary>
    public bool TryUse(string id, DateTimeOffset acceptableUntil, DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_ends.TryPeek(out var ended, out var end) && end < now)
            {
                _ends.Dequeue();
                _seen.Remove(ended);
            }

            if (!_seen.Add(id)) return false;
            _ends.Enqueue(id, acceptableUntil);
            return true;
        }
    }
}
