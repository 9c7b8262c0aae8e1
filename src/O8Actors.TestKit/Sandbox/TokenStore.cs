using System.Collections.Concurrent;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// Every token descending from one authorization code: the access and refresh tokens it produced and all their rotations.
/// Revoking the family (code replay, refresh-token replay) kills them all at once, as RFC 9700 §4.14 and §2.1.1 ask.
/// </summary>
internal sealed class TokenFamily(AuthorizeRequestInfo request, string subject, string scope)
{
    private volatile bool _revoked;

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
    public bool IsRevoked => _revoked;

    public void Revoke() => _revoked = true;
}

/// <summary>An access token: its family, and its own scope (a refresh may narrow it, RFC 6749 section 6).</summary>
internal sealed record AccessTokenEntry(TokenFamily Family, string Scope, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    /// <summary>The API this token is for (RFC 8707): the grant's resource; null for a token of this server's own (userinfo).</summary>
    public string? Audience => Family.Request.Get("resource");

    public override string ToString() => $"AccessTokenEntry {{ ClientId = {Family.ClientId}, ExpiresAt = {ExpiresAt:O} }}";
}

internal sealed class RefreshTokenEntry(TokenFamily family, DateTimeOffset issuedAt)
{
    public TokenFamily Family { get; } = family;
    public DateTimeOffset IssuedAt { get; } = issuedAt;

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

/// <summary>Access and refresh tokens. Thread-safe.</summary>
/// <param name="accessTokenLength">The length of access tokens (<see cref="SandboxOptions.AccessTokenLength"/>); null: a bare secret.</param>
internal sealed class TokenStore(int? accessTokenLength = null)
{
    private readonly ConcurrentDictionary<string, AccessTokenEntry> _access = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RefreshTokenEntry> _refresh = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _revokedAccess = new(StringComparer.Ordinal);

    /// <summary>Revokes one access token (RFC 7009): the rest of its family stays valid.</summary>
    public void RevokeAccess(string token) => _revokedAccess[token] = true;

    /// <summary>
    /// Issues an access token for <paramref name="scope"/> (the family's whole grant when null) and, if asked, a refresh
    /// token, which always carries the family's whole grant.
    /// </summary>
    public IssuedTokens Issue(TokenFamily family, DateTimeOffset now, TimeSpan lifetime, bool withRefreshToken, string? scope = null)
    {
        scope ??= family.Scope;
        // A large token is still unique: its random secret comes first.
        var access = SandboxHttp.NewSecret().PadRight(accessTokenLength ?? 0, 'A');
        _access[access] = new AccessTokenEntry(family, scope, now, now + lifetime);
        string? refresh = null;
        if (withRefreshToken)
        {
            refresh = SandboxHttp.NewSecret();
            _refresh[refresh] = new RefreshTokenEntry(family, now);
        }

        return new IssuedTokens(access, refresh, scope, now, lifetime);
    }

    public RefreshTokenEntry? FindRefresh(string? token) => token is not null && _refresh.TryGetValue(token, out var entry) ? entry : null;

    public AccessTokenEntry? FindAccess(string? token) => token is not null && _access.TryGetValue(token, out var entry) ? entry : null;

    /// <summary>Whether an access token exists, is unexpired and its family was not revoked.</summary>
    public bool IsAccessTokenActive(string? token, DateTimeOffset now) =>
        FindAccess(token) is { } entry && !entry.Family.IsRevoked && now < entry.ExpiresAt && !_revokedAccess.ContainsKey(token!);

    /// <summary>Whether a refresh token exists, was never rotated and its family was not revoked.</summary>
    public bool IsRefreshTokenActive(string? token) =>
        FindRefresh(token) is { } entry && !entry.Family.IsRevoked && !entry.Used;
}
