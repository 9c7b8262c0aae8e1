using System.Collections.Concurrent;

namespace O8Actors.TestKit.Sandbox;

/// <summary>One device authorization (RFC 8628): its code, its user's script and how far the client has polled.</summary>
internal sealed class DeviceGrant(AuthorizeRequestInfo request, string userCode, DateTimeOffset expiresAt, SandboxDeviceUser user)
{
    private int _polls;
    private int _redeemed;

    public AuthorizeRequestInfo Request { get; } = request;
    public string UserCode { get; } = userCode;
    public DateTimeOffset ExpiresAt { get; } = expiresAt;
    public SandboxDeviceUser User { get; } = user;

    /// <summary>Counts a poll and returns its number (1 for the first).</summary>
    public int Poll() => Interlocked.Increment(ref _polls);

    /// <summary>True the first time only: a device code is redeemed once.</summary>
    public bool TryRedeem() => Interlocked.Exchange(ref _redeemed, 1) == 0;

    public override string ToString() => $"DeviceGrant {{ ClientId = {Request.ClientId}, ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>Device codes by value. Thread-safe.</summary>
internal sealed class DeviceCodeStore
{
    private readonly ConcurrentDictionary<string, DeviceGrant> _grants = new(StringComparer.Ordinal);

    public void Add(string deviceCode, DeviceGrant grant) => _grants[deviceCode] = grant;

    public DeviceGrant? Find(string? deviceCode) => deviceCode is not null && _grants.TryGetValue(deviceCode, out var grant) ? grant : null;
}
