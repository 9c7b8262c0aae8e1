using System.Collections.Concurrent;

namespace O8Actors.TestKit.Sandbox;

/// <summary>Everything the endpoints share. One per server.</summary>
internal sealed class SandboxState(SandboxOptions options, CancellationToken stopping) : IDisposable
{
    private TokenFaultPlan? _faults = options.TokenFaults;

    public SandboxOptions Options { get; } = options;
    public TimeProvider Time => Options.TimeProvider;
    public ClientRegistry Clients { get; } = new();
    public AuthorizationCodeStore Codes { get; } = new(options.CodeLifetime);
    public TokenStore Tokens { get; } = new(options.AccessTokenLength, options.RefreshTokenLifetime);
    /// <summary>
    /// Device authorizations by device code, kept one more lifetime past their expiry, at most
    /// <see cref="AuthorizationCodeStore.LateAnswers"/> (until then a late poll still reads <c>expired_token</c>).
    /// </summary>
    public ExpiringEntries<DeviceGrant> DeviceCodes { get; } = new();
    public SandboxCounters Counters { get; } = new();

    /// <summary>The form reader every endpoint uses, bounded for the longest token this server issues.</summary>
    public SandboxForm Forms { get; } = SandboxForm.For(options);
    public IdTokenSigner Signer { get; } = new();
    public DpopProofChecker Dpop { get; } = new(options);

    /// <summary>The <c>jti</c> of the client assertions accepted (private_key_jwt) and not yet expired: each is used once.</summary>
    public ReplayCache AssertionIds { get; } = new();

    /// <summary>Consent pages shown and not yet answered, by consent id, until <see cref="SandboxOptions.ConsentLifetime"/> has passed.</summary>
    public ExpiringEntries<AuthorizeRequestInfo> PendingConsents { get; } = new();

    /// <summary>Pushed authorization requests (RFC 9126) not yet redeemed, by <c>request_uri</c>, until their <c>expires_in</c> has passed.</summary>
    public ExpiringEntries<(string ClientId, Dictionary<string, string> Parameters)> PushedRequests { get; } = new();

    /// <summary>Every logout carried out at <c>/end-session</c>, in order. The sandbox keeps no login session to end, so this record is the effect.</summary>
    public ConcurrentQueue<SandboxEndedSession> EndedSessions { get; } = new();

    /// <summary>Cancelled when the server stops: ends hanging requests and delays.</summary>
    public CancellationToken Stopping { get; } = stopping;

    /// <summary>Set once Kestrel has bound its port, before the server is handed to the caller.</summary>
    public SandboxEndpoints? Endpoints { get; set; }

    public TokenFaultPlan? Faults
    {
        get => Volatile.Read(ref _faults);
        set => Volatile.Write(ref _faults, value);
    }

    public void Dispose() => Signer.Dispose();
}
