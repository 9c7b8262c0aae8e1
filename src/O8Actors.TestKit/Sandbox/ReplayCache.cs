namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// The identifiers (<c>jti</c>) of accepted DPoP proofs or client assertions, each accepted once. An identifier is kept
/// as long as what carried it could still be accepted (a proof's <c>iat</c> window, an assertion's <c>exp</c>) and
/// forgotten after: a replay by then is refused for its age, so a long-running test host does not grow without end.
/// Thread-safe.
/// </summary>
internal sealed class ReplayCache
{
    private readonly ExpiringEntries<bool> _seen = new();

    /// <summary>How many identifiers are kept.</summary>
    public int Count => _seen.Count;

    /// <summary>
    /// True the first time <paramref name="id"/> is used, false for a replay. <paramref name="acceptableUntil"/> is the
    /// last instant its carrier could be accepted; the identifier is kept at least until then.
    /// </summary>
    public bool TryUse(string id, DateTimeOffset acceptableUntil, DateTimeOffset now) =>
        // Kept through that last instant itself: it expires the tick after.
        _seen.TryAdd(id, true, acceptableUntil.AddTicks(1), now);
}
