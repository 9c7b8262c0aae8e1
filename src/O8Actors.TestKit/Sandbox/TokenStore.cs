using System.Collections.Concurrent;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// Every token descending from one authorization code: the access and refresh tokens it produced and all their rotations.
/// Revoking the family (code replay, refresh-token replay) kills them all at once, as RFC 9700 §4.14 and §2.1.1 ask.
/// </summary>
internal sealed class TokenFamily(AuthorizeRequestInfo request, string subject, string scope)
{
    private volatile bool _revoked;
    // Its own lock: tokens are issued under Gate (a refresh), and a code's sweep reads this without it.
    private readonly Lock _liveGate = new();
    private DateTimeOffset _liveUntil = DateTimeOffset.MinValue;

    public AuthorizeRequestInfo Request { get; } = request;
    public string ClientId => Request.ClientId;
    public string Subject { get; } = subject;
    public string Scope { get; } = scope;
    public Lock Gate { get; } = new();

    /// <summary>
    /// The sandbox session this sign-in opened, as the ID tokens' <c>sid</c> (OpenID Connect Back-Channel Logout 1.0
    /// section 2.1): each authorization is a session of its own here.
    /// </summary>
    public string SessionId { get; } = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));

    /// <summary>The RFC 7638 thumbprint of the DPoP key the family's tokens are bound to (RFC 9449); null for bearer tokens.</summary>
    public string? BoundKey { get; init; }

    /// <summary>
    /// When the user signed in for this family (its ID tokens' <c>auth_time</c>): set at the code exchange and kept by
    /// every refresh, which re-authenticates nobody (OpenID Connect Core 1.0 section 12.2).
    /// </summary>
    public required DateTimeOffset AuthTime { get; init; }

    public bool IsRevoked => _revoked;

    /// <summary>
    /// When the last of the family's tokens expires (<see cref="DateTimeOffset.MaxValue"/> once it holds a refresh token
    /// without a lifetime): until then a replay of the code it came from must still find it, to revoke it.
    /// </summary>
    public DateTimeOffset LiveUntil
    {
        get
        {
            lock (_liveGate) return _liveUntil;
        }
    }

    public void Revoke() => _revoked = true;

    /// <summary>Notes a token of the family that lives until <paramref name="expiresAt"/>.</summary>
    public void Holds(DateTimeOffset expiresAt)
    {
        lock (_liveGate)
        {
            if (expiresAt > _liveUntil) _liveUntil = expiresAt;
        }
    }
}

/// <summary>An access token: its family, and its own scope (a refresh may narrow it, RFC 6749 section 6).</summary>
internal sealed record AccessTokenEntry(TokenFamily Family, string Scope, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    /// <summary>The API this token is for (RFC 8707): the grant's resource; null for a token of this server's own (userinfo).</summary>
    public string? Audience => Family.Request.Get("resource");

    public override string ToString() => $"AccessTokenEntry {{ ClientId = {Family.ClientId}, ExpiresAt = {ExpiresAt:O} }}";
}

internal sealed class RefreshTokenEntry(TokenFamily family, DateTimeOffset issuedAt, DateTimeOffset? expiresAt)
{
    public TokenFamily Family { get; } = family;
    public DateTimeOffset IssuedAt { get; } = issuedAt;

    /// <summary>When it stops working (<see cref="SandboxOptions.RefreshTokenLifetime"/>); null: never.</summary>
    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    public bool HasExpired(DateTimeOffset now) => now >= ExpiresAt;

    /// <summary>Set once rotated; guarded by <see cref="TokenFamily.Gate"/>.</summary>
    public bool Used { get; set; }
}

/// <summary>The tokens of one token response. <see cref="ToString"/> hides them.</summary>
internal sealed record IssuedTokens(string AccessToken, string? RefreshToken, string Scope, DateTimeOffset IssuedAt, TimeSpan Lifetime)
{
    /// <summary>Whether the access token's scope holds <c>openid</c> (then the response carries an ID token).</summary>
    public bool IsOpenId => Scope.Split(' ').Contains("openid", StringComparer.Ordinal);

    public override string ToString() => $"IssuedTokens {{ Scope = {Scope}, IssuedAt = {IssuedAt:O}, Lifetime = {Lifetime} }}";
}

/// <summary>
/// Access and refresh tokens, each forgotten once it has expired (at the next issue): an expired token reads as an
/// unknown one at every endpoint, so a long-running server holds only what still works. Thread-safe.
/// </summary>
/// <param name="accessTokenLength">The length of access tokens (<see cref="SandboxOptions.AccessTokenLength"/>); null: a bare secret.</param>
/// <param name="refreshTokenLifetime">How long a refresh token works (<see cref="SandboxOptions.RefreshTokenLifetime"/>); null: until revoked or rotated.</param>
internal sealed class TokenStore(int? accessTokenLength = null, TimeSpan? refreshTokenLifetime = null)
{
    private readonly ConcurrentDictionary<string, AccessTokenEntry> _access = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RefreshTokenEntry> _refresh = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _revokedAccess = new(StringComparer.Ordinal);
    private readonly ExpiryQueue _accessEnds = new();
    private readonly ExpiryQueue _refreshEnds = new();

    /// <summary>Access tokens held, expired ones included until the next issue forgets them.</summary>
    public int AccessTokenCount => _access.Count;

    /// <summary>Refresh tokens held (rotated ones too, for replay detection, until they expire).</summary>
    public int RefreshTokenCount => _refresh.Count;

    /// <summary>Revokes one access token (RFC 7009): the rest of its family stays valid.</summary>
    public void RevokeAccess(string token) => _revokedAccess[token] = true;

    /// <summary>
    /// Issues an access token for <paramref name="scope"/> (the family's whole grant when null) and, if asked, a refresh
    /// token, which always carries the family's whole grant.
    /// </summary>
    public IssuedTokens Issue(TokenFamily family, DateTimeOffset now, TimeSpan lifetime, bool withRefreshToken, string? scope = null)
    {
        Forget(now);
        scope ??= family.Scope;
        // A large token is still unique: its random secret comes first.
        var access = SandboxHttp.NewSecret().PadRight(accessTokenLength ?? 0, 'A');
        _access[access] = new AccessTokenEntry(family, scope, now, now + lifetime);
        _accessEnds.Add(access, now + lifetime);
        family.Holds(now + lifetime);
        string? refresh = null;
        if (withRefreshToken)
        {
            refresh = SandboxHttp.NewSecret();
            var expiresAt = now + refreshTokenLifetime;
            _refresh[refresh] = new RefreshTokenEntry(family, now, expiresAt);
            if (expiresAt is { } end) _refreshEnds.Add(refresh, end);
            family.Holds(expiresAt ?? DateTimeOffset.MaxValue);
        }

        return new IssuedTokens(access, refresh, scope, now, lifetime);
    }

    /// <summary>
    /// Forgets the tokens expired at <paramref name="now"/>, with their revocation marks: one that is presented later
    /// gets the answer of an unknown token, as it would of an expired one (inactive, <c>invalid_token</c>,
    /// <c>invalid_grant</c>). A rotated refresh token is kept until it expires, so a replay within its life still
    /// revokes its family.
    /// </summary>
    private void Forget(DateTimeOffset now)
    {
        foreach (var token in _accessEnds.TakeDue(now))
        {
            _access.TryRemove(token, out _);
            _revokedAccess.TryRemove(token, out _);
        }

        foreach (var token in _refreshEnds.TakeDue(now)) _refresh.TryRemove(token, out _);
    }

    public RefreshTokenEntry? FindRefresh(string? token) => token is not null && _refresh.TryGetValue(token, out var entry) ? entry : null;

    public AccessTokenEntry? FindAccess(string? token) => token is not null && _access.TryGetValue(token, out var entry) ? entry : null;

    /// <summary>Whether an access token exists, is unexpired and its family was not revoked.</summary>
    public bool IsAccessTokenActive(string? token, DateTimeOffset now) =>
        FindAccess(token) is { } entry && !entry.Family.IsRevoked && now < entry.ExpiresAt && !_revokedAccess.ContainsKey(token!);

    /// <summary>Whether a refresh token exists, is unexpired, was never rotated and its family was not revoked.</summary>
    public bool IsRefreshTokenActive(string? token, DateTimeOffset now) =>
        FindRefresh(token) is { } entry && !entry.Family.IsRevoked && !entry.Used && !entry.HasExpired(now);
}
