using System.Collections.Concurrent;

namespace O8Actors.TestKit.Sandbox;

/// <summary>What the sandbox has seen and done. Thread-safe; read at any time.</summary>
public sealed class SandboxCounters
{
    private long _authorizeRequests;
    private long _codesIssued;
    private long _tokensIssued;
    private long _refreshes;
    private long _denials;
    private long _consentPages;
    private long _neverAnswered;
    private long _familiesRevoked;
    private long _tokenRequests;
    private long _revocations;
    private long _deviceCodes;
    private long _devicePolls;
    private long _pushed;
    private long _userInfo;
    private long _sessionsEnded;
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<TokenFaultKind, long> _faults = new();

    /// <summary>Requests to <c>/authorize</c>, valid or not.</summary>
    public long AuthorizeRequests => Interlocked.Read(ref _authorizeRequests);

    /// <summary>Authorization codes handed out.</summary>
    public long CodesIssued => Interlocked.Read(ref _codesIssued);

    /// <summary>Requests to <c>/token</c>, whatever became of them.</summary>
    public long TokenRequests => Interlocked.Read(ref _tokenRequests);

    /// <summary>Successful token responses (code exchanges and refreshes).</summary>
    public long TokensIssued => Interlocked.Read(ref _tokensIssued);

    /// <summary>Successful refresh-token grants.</summary>
    public long Refreshes => Interlocked.Read(ref _refreshes);

    /// <summary>Logins denied by the decision function or the consent page.</summary>
    public long Denials => Interlocked.Read(ref _denials);

    /// <summary>Consent pages shown.</summary>
    public long ConsentPagesShown => Interlocked.Read(ref _consentPages);

    /// <summary>Authorize requests held open by <see cref="SandboxDecisionKind.NeverAnswer"/>.</summary>
    public long NeverAnswered => Interlocked.Read(ref _neverAnswered);

    /// <summary>
    /// Replays refused of a used code or a rotated refresh token; each revokes the tokens issued from that code (its
    /// family). Counted per replay: a family replayed twice counts twice, and a code whose first redemption failed (a
    /// wrong <c>code_verifier</c> or <c>redirect_uri</c>: the first use spends a code) counts though it issued nothing.
    /// </summary>
    public long FamiliesRevoked => Interlocked.Read(ref _familiesRevoked);

    /// <summary>Tokens revoked through <c>/revoke</c> (RFC 7009): requests that named an active token of the calling client.</summary>
    public long Revocations => Interlocked.Read(ref _revocations);

    /// <summary>Device codes handed out by <c>/device/code</c> (RFC 8628).</summary>
    public long DeviceCodesIssued => Interlocked.Read(ref _deviceCodes);

    /// <summary>Device-code grant requests to <c>/token</c> (polls), whatever they were answered.</summary>
    public long DevicePolls => Interlocked.Read(ref _devicePolls);

    /// <summary>Pushed authorization requests accepted at <c>/par</c> (RFC 9126).</summary>
    public long PushedRequests => Interlocked.Read(ref _pushed);

    /// <summary>Requests to <c>/userinfo</c> (OpenID Connect Core section 5.3), answered or refused.</summary>
    public long UserInfoRequests => Interlocked.Read(ref _userInfo);

    /// <summary>
    /// Logout requests to <c>/end-session</c> (OpenID Connect RP-Initiated Logout 1.0) that were carried out; refused ones
    /// count only in <see cref="ErrorsByKind"/>. Each is listed in <see cref="SandboxAuthorizationServer.EndedSessions"/>.
    /// </summary>
    public long SessionsEnded => Interlocked.Read(ref _sessionsEnded);

    /// <summary>Protocol errors returned, by OAuth error code (<c>invalid_grant</c>, <c>invalid_client</c>, <c>invalid_redirect_uri</c>, ...).</summary>
    public IReadOnlyDictionary<string, long> ErrorsByKind => new Dictionary<string, long>(_errors, StringComparer.Ordinal);

    /// <summary>Faults injected into the token endpoint, by kind.</summary>
    public IReadOnlyDictionary<TokenFaultKind, long> FaultsByKind => new Dictionary<TokenFaultKind, long>(_faults);

    /// <summary>All faults injected.</summary>
    public long FaultsInjected => _faults.Values.Sum();

    /// <summary>How many times <paramref name="error"/> was returned.</summary>
    public long Errors(string error) => _errors.TryGetValue(error, out var count) ? count : 0;

    /// <summary>How many faults of <paramref name="kind"/> were injected.</summary>
    public long Faults(TokenFaultKind kind) => _faults.TryGetValue(kind, out var count) ? count : 0;

    internal void AuthorizeRequest() => Interlocked.Increment(ref _authorizeRequests);
    internal void CodeIssued() => Interlocked.Increment(ref _codesIssued);
    internal void TokenRequest() => Interlocked.Increment(ref _tokenRequests);
    internal void TokenIssued() => Interlocked.Increment(ref _tokensIssued);
    internal void Refreshed() => Interlocked.Increment(ref _refreshes);
    internal void Denied() => Interlocked.Increment(ref _denials);
    internal void ConsentPageShown() => Interlocked.Increment(ref _consentPages);
    internal void NeverAnswer() => Interlocked.Increment(ref _neverAnswered);
    internal void DeviceCodeIssued() => Interlocked.Increment(ref _deviceCodes);
    internal void DevicePoll() => Interlocked.Increment(ref _devicePolls);
    internal void PushedRequest() => Interlocked.Increment(ref _pushed);
    internal void UserInfoRequest() => Interlocked.Increment(ref _userInfo);
    internal void SessionEnded() => Interlocked.Increment(ref _sessionsEnded);
    internal void Revoked() => Interlocked.Increment(ref _revocations);
    internal void FamilyRevoked() => Interlocked.Increment(ref _familiesRevoked);
    internal void Error(string error) => _errors.AddOrUpdate(error, 1, static (_, n) => n + 1);
    internal void Fault(TokenFaultKind kind) => _faults.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    /// <inheritdoc />
    public override string ToString() =>
        $"authorize={AuthorizeRequests} codes={CodesIssued} tokenRequests={TokenRequests} tokens={TokensIssued} refreshes={Refreshes} revocations={Revocations} deviceCodes={DeviceCodesIssued} devicePolls={DevicePolls} userInfo={UserInfoRequests} sessionsEnded={SessionsEnded} " +
        $"denials={Denials} errors=[{string.Join(", ", ErrorsByKind.Select(e => $"{e.Key}:{e.Value}"))}] faults={FaultsInjected}";
}
