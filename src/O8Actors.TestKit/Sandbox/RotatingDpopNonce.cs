namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// The server's DPoP nonce (RFC 9449 section 8), replaced by a new one every <c>lifetime</c> on the sandbox's clock. A
/// proof may carry the current nonce, or the one before it for one more lifetime (a client that fetched it just before
/// the change is not refused); an older one is answered <c>use_dpop_nonce</c> with the current one. Thread-safe.
/// </summary>
internal sealed class RotatingDpopNonce(TimeSpan lifetime, DateTimeOffset start)
{
    private readonly Lock _gate = new();
    private string _current = SandboxHttp.NewSecret();
    private DateTimeOffset _currentSince = start;
    private string? _previous;
    private DateTimeOffset _previousUntil;

    /// <summary>The nonce to hand out at <paramref name="now"/>.</summary>
    public string Current(DateTimeOffset now)
    {
        lock (_gate)
        {
            Rotate(now);
            return _current;
        }
    }

    /// <summary>Whether a proof at <paramref name="now"/> may carry <paramref name="nonce"/>.</summary>
    public bool Accepts(string? nonce, DateTimeOffset now)
    {
        if (nonce is null) return false;
        lock (_gate)
        {
            Rotate(now);
            return string.Equals(nonce, _current, StringComparison.Ordinal)
                || (now < _previousUntil && string.Equals(nonce, _previous, StringComparison.Ordinal));
        }
    }

    // Lazily, on the first use after the lifetime: a sandbox nobody calls keeps no timer.
    private void Rotate(DateTimeOffset now)
    {
        if (now - _currentSince < lifetime) return;
        _previous = _current;
        // Handed out until its lifetime ended, so it stays good for one lifetime after that.
        _previousUntil = _currentSince + lifetime + lifetime;
        _current = SandboxHttp.NewSecret();
        _currentSince = now;
    }
}
