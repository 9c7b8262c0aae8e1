namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// One device authorization (RFC 8628): its code, its user's script, how far the client has polled, and the interval
/// it must keep between requests (section 3.5), which each <c>slow_down</c> raises by 5 seconds. The issue is the first
/// of those requests: the first poll too must wait the interval after it.
/// </summary>
internal sealed class DeviceGrant(AuthorizeRequestInfo request, string userCode, DateTimeOffset issuedAt, DateTimeOffset expiresAt,
    SandboxDeviceUser user, TimeSpan interval)
{
    /// <summary>RFC 8628 section 3.5: what each <c>slow_down</c> adds to the interval.</summary>
    public static readonly TimeSpan SlowDownStep = TimeSpan.FromSeconds(5);

    // A poll is too soon only when it comes before this share of the interval: a client whose timer fires a little
    // early, or whose previous poll was answered slowly, is never penalised.
    private const double Tolerance = 0.8;

    private readonly Lock _gate = new();
    private TimeSpan _interval = interval;
    // The device authorization request counts as the previous one (section 3.5: the client waits the interval between
    // its requests), so a client that polls at once is slowed down as one that polls twice at once is.
    private DateTimeOffset _lastRequest = issuedAt;
    private int _polls;
    private int _redeemed;

    public AuthorizeRequestInfo Request { get; } = request;
    public string UserCode { get; } = userCode;
    public DateTimeOffset ExpiresAt { get; } = expiresAt;
    public SandboxDeviceUser User { get; } = user;

    /// <summary>The interval the client must now keep between polls.</summary>
    public TimeSpan Interval
    {
        get
        {
            lock (_gate) return _interval;
        }
    }

    /// <summary>
    /// Notes a poll at <paramref name="now"/>; true when it came sooner than the interval allows since the previous poll
    /// (or, for the first, since the code was issued), which raises the interval by <see cref="SlowDownStep"/> (the
    /// answer is <c>slow_down</c>).
    /// </summary>
    public bool PolledTooSoon(DateTimeOffset now)
    {
        lock (_gate)
        {
            var tooSoon = now - _lastRequest < _interval * Tolerance;
            _lastRequest = now;
            if (tooSoon) _interval += SlowDownStep;
            return tooSoon;
        }
    }

    /// <summary>The scripted user told the client to slow down: the interval grows as for a poll that came too soon.</summary>
    public void SlowDown()
    {
        lock (_gate) _interval += SlowDownStep;
    }

    /// <summary>Counts a poll of the user's script and returns its number (1 for the first).</summary>
    public int Poll() => Interlocked.Increment(ref _polls);

    /// <summary>True the first time only: a device code is redeemed once.</summary>
    public bool TryRedeem() => Interlocked.Exchange(ref _redeemed, 1) == 0;

    public override string ToString() => $"DeviceGrant {{ ClientId = {Request.ClientId}, ExpiresAt = {ExpiresAt:O} }}";
}
