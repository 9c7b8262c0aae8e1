using System.Text.RegularExpressions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Runtime;

namespace O8Actors.Providers.IdTokens;

/// <summary>
/// Validates one provider's ID tokens as OpenID Connect Core 1.0 section 3.1.3.7 asks, with
/// Microsoft.IdentityModel's <see cref="JsonWebTokenHandler"/>: an asymmetric signature by a key from the provider's
/// JWKS, <c>iss</c>, <c>aud</c> (and <c>azp</c>), <c>exp</c> and <c>iat</c> within the clock skew, and the login's
/// <c>nonce</c>. Each failure is an <see cref="IdTokenValidationException"/> that names the check, never the token.
/// </summary>
/// <remarks>One per provider strategy, so the key set is cached per provider. Thread-safe.</remarks>
internal sealed partial class IdTokenValidator
{
    /// <summary>The placeholder in an issuer that the token's <c>tid</c> claim fills (Microsoft's multi-tenant endpoints).</summary>
    public const string TenantPlaceholder = "{tenantid}";

    // Public-key signatures only. HS* would make the client secret (or, in the classic confusion attack, the public
    // key) the verification key; "none" is no signature at all.
    private static readonly string[] Asymmetric =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    private readonly string _provider;
    private readonly string _clientId;
    private readonly string _issuer;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _time;

    /// <summary>Creates the validator; no network call until the first token.</summary>
    /// <param name="provider">The provider's name, for messages.</param>
    /// <param name="clientId">The client id: <c>aud</c> must contain it.</param>
    /// <param name="issuer">The issuer <c>iss</c> must equal; may contain <see cref="TenantPlaceholder"/>.</param>
    /// <param name="jwksUri">The provider's key set.</param>
    /// <param name="clockSkew">Tolerance on <c>exp</c> and <c>iat</c>.</param>
    /// <param name="time">The clock.</param>
    /// <param name="keys">The key set of <paramref name="jwksUri"/> when one is held already; null: a new one.</param>
    public IdTokenValidator(string provider, string clientId, string issuer, Uri jwksUri, TimeSpan clockSkew, TimeProvider time,
        JwksCache? keys = null)
    {
        _provider = provider;
        _clientId = clientId;
        _issuer = issuer;
        _clockSkew = clockSkew;
        _time = time;
        Keys = keys is not null && keys.Uri == jwksUri ? keys : new JwksCache(provider, jwksUri, time);
    }

    /// <summary>
    /// Other spellings of the issuer the provider documents (<see cref="GenericOAuthOptions.IdTokenIssuerAliases"/>):
    /// accepted in <c>iss</c>, and read as the issuer itself.
    /// </summary>
    public IReadOnlyList<string> IssuerAliases { get; init; } = [];

    /// <summary>The provider's cached key set.</summary>
    public JwksCache Keys { get; }

    /// <summary>Validates <paramref name="idToken"/> and returns its claims.</summary>
    /// <param name="idToken">The compact JWS from the token response.</param>
    /// <param name="expectedNonce">The login's nonce; null when none was sent (a refresh), and then <c>nonce</c> is not checked.</param>
    /// <param name="http">The providers' HTTP client, for the key set.</param>
    /// <param name="cancellationToken">Cancels a key set fetch.</param>
    /// <param name="authenticatedNotBefore">With <c>max_age</c>: the earliest <c>auth_time</c> accepted; null: not checked.</param>
    /// <param name="acceptedAcrValues">With <c>acr_values</c>: the <c>acr</c> values accepted; null: not checked.</param>
    /// <param name="keysDeadline">When waiting for the key set ends (<see cref="JwksCache.DeadlineIn"/>); null: as long as <paramref name="cancellationToken"/> allows.</param>
    /// <exception cref="IdTokenValidationException">A check failed; the message says which.</exception>
    public async Task<IdTokenClaims> ValidateAsync(string idToken, string? expectedNonce, HttpClient http, CancellationToken cancellationToken,
        DateTimeOffset? authenticatedNotBefore = null, IReadOnlyList<string>? acceptedAcrValues = null, long? keysDeadline = null)
    {
        var token = await ReadVerifiedAsync(idToken, TokenKind.IdToken, http, cancellationToken, keysDeadline).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        if (!token.TryGetPayloadValue<long>("exp", out var expSeconds))
            throw Fail("expired", "it has no exp claim");
        // An exp past year 9999 is far future, not an error (nothing limits how long a provider lets its tokens live).
        var expiresAt = NumericDate.Expiry(expSeconds);
        if (expiresAt < NumericDate.Minus(now, _clockSkew))
            throw Fail("expired", $"it expired at {expiresAt:O} (now {now:O}, clock skew {_clockSkew.TotalSeconds:0} s)", offClock: true);
        var issuedAt = CheckIssuedAt(token, TokenKind.IdToken, now);

        var audiences = token.Audiences.ToList();
        token.TryGetPayloadValue<string>("azp", out var azp);
        if (audiences.Count > 1 && string.IsNullOrEmpty(azp))
            throw Fail("audience", "it has several audiences but no azp claim");
        if (!string.IsNullOrEmpty(azp) && !string.Equals(azp, _clientId, StringComparison.Ordinal))
            throw Fail("audience", "its azp claim names another client");

        if (expectedNonce is not null)
        {
            if (!token.TryGetPayloadValue<string>("nonce", out var nonce) || string.IsNullOrEmpty(nonce))
                throw Fail("nonce", "it carries no nonce, but the login sent one");
            if (!ConstantTime.AreEqual(expectedNonce, nonce))
                throw Fail("nonce", "its nonce is not this login's (a replayed or injected token)");
        }

        if (authenticatedNotBefore is { } earliest)
        {
            // OpenID Connect Core 1.0 sections 2 and 3.1.3.7 (13): with max_age, auth_time is required and tells whether
            // the provider asked the user again.
            if (!token.TryGetPayloadValue<long>("auth_time", out var authSeconds))
                throw Fail("auth-time", "it has no auth_time claim, but the login asked for max_age");
            // A sign-in time no date holds is no sign-in time: it cannot show the user was asked again.
            if (NumericDate.ToTime(authSeconds) is not { } authTime)
                throw Fail("auth-time", "its auth_time is outside the years 1 to 9999");
            if (authTime < NumericDate.Minus(earliest, _clockSkew))
                throw Fail("auth-time", $"the user last signed in at {authTime:O}, earlier than the login's max_age allows ({earliest:O}): the provider did not ask the user again");
        }

        if (acceptedAcrValues is not null)
        {
            // Section 3.1.3.7 item 12: the class of the authentication performed must be one the login asked for.
            if (!token.TryGetPayloadValue<string>("acr", out var acr) || string.IsNullOrEmpty(acr))
                throw Fail("acr", "it has no acr claim, but the login asked for acr_values");
            if (!acceptedAcrValues.Contains(acr, StringComparer.Ordinal))
                throw Fail("acr", $"the user signed in with {PrintableAcr(acr)}, which is not among the login's acr_values ({string.Join(' ', acceptedAcrValues)})");
        }

        if (string.IsNullOrEmpty(token.Subject))
            throw Fail("malformed", "it has no sub claim");
        // The subject becomes the account's key, printed in log lines and messages: a line break or an escape in it would
        // forge them. No identifier needs one (OpenID Connect Core 1.0 section 2: at most 255 ASCII characters).
        if (Callback.ExternalText.HasHiding(token.Subject))
            throw Fail("malformed", "its sub claim holds control or formatting characters");
        token.TryGetPayloadValue<string>("email", out var email);
        token.TryGetPayloadValue<string>("name", out var name);
        return new IdTokenClaims(token.Subject, Canonical(token.Issuer), audiences, expiresAt, issuedAt, email, name, token.Claims.ToList());
    }

    /// <summary>
    /// Validates a back-channel logout token as OpenID Connect Back-Channel Logout 1.0 section 2.6 asks: the signature,
    /// <c>iss</c> and <c>aud</c> as for an ID token; <c>iat</c> present, not in the future and no older than
    /// <see cref="LogoutTokenMaxAge"/> plus the clock skew (whatever <c>exp</c> says); <c>exp</c>, when present, not passed; an <c>events</c> object
    /// holding the back-channel logout event; a <c>sub</c>, a <c>sid</c> or both; a <c>jti</c>; no <c>nonce</c> (which
    /// keeps an ID token from passing as one); and a <c>typ</c> header, when present, of <c>logout+jwt</c>.
    /// </summary>
    /// <exception cref="BackChannelLogoutException">A check failed (<see cref="BackChannelLogoutFailure.InvalidToken"/>, the
    /// message says which), or the key set could not be fetched (<see cref="BackChannelLogoutFailure.Failed"/>).</exception>
    public async Task<LogoutToken> ValidateLogoutTokenAsync(string logoutToken, HttpClient http, CancellationToken cancellationToken)
    {
        JsonWebToken token;
        try
        {
            token = await ReadVerifiedAsync(logoutToken, TokenKind.LogoutToken, http, cancellationToken).ConfigureAwait(false);
        }
        catch (IdTokenValidationException keys)
        {
            // Only the key set's fetch throws this here (every check of the token itself throws the logout exception).
            throw new BackChannelLogoutException(BackChannelLogoutFailure.Failed,
                $"The logout token from '{_provider}' could not be checked: the provider's key set could not be read. No account was signed out.", keys);
        }

        // Explicit typing (section 2.4): logout+jwt, or no type or the generic JWT (providers that do not type them); a
        // token typed as anything else is another kind of JWT of the provider's (an access token, RFC 9068), not a logout.
        if (token.TryGetHeaderValue<string>("typ", out var typ) && typ is { Length: > 0 } && !LogoutTypes.Contains(typ, StringComparer.OrdinalIgnoreCase))
            throw Fail("type", $"its typ header is {Printable(typ)}, not 'logout+jwt'", TokenKind.LogoutToken);

        var now = _time.GetUtcNow();
        var issuedAt = CheckIssuedAt(token, TokenKind.LogoutToken, now);
        DateTimeOffset? expiresAt = null;
        if (token.TryGetPayloadValue<long>("exp", out var expSeconds))
        {
            expiresAt = NumericDate.Expiry(expSeconds);
            if (expiresAt < NumericDate.Minus(now, _clockSkew))
                throw Fail("expired", $"it expired at {expiresAt:O} (now {now:O}, clock skew {_clockSkew.TotalSeconds:0} s)", TokenKind.LogoutToken);
        }
        // Whatever exp says (section 2.6 lets an RP refuse a token whose iat is too far in the past; providers are asked
        // for two minutes at most): without this bound a captured long-lived token would pass again once the replay guard
        // forgot its jti, as after a restart. With it, no token outlives the guard's memory of it.
        if (issuedAt < NumericDate.Minus(now, LogoutTokenMaxAge + _clockSkew))
            throw Fail("expired", $"it was issued at {issuedAt:O}, more than {LogoutTokenMaxAge.TotalMinutes:0} minutes ago (now {now:O}, clock skew {_clockSkew.TotalSeconds:0} s)", TokenKind.LogoutToken);

        if (!token.TryGetPayloadValue<System.Text.Json.JsonElement>("events", out var events) ||
            events.ValueKind != System.Text.Json.JsonValueKind.Object ||
            !events.TryGetProperty(BackChannelLogoutEvent, out var logoutEvent) ||
            logoutEvent.ValueKind != System.Text.Json.JsonValueKind.Object)
            throw Fail("events", $"its events claim is not an object holding the member {BackChannelLogoutEvent} with an object value", TokenKind.LogoutToken);
        if (token.TryGetClaim("nonce", out _))
            throw Fail("nonce", "it carries a nonce, which a logout token must not (an ID token is not a logout token)", TokenKind.LogoutToken);

        var subject = StringClaim(token, "sub");
        var sessionId = StringClaim(token, "sid");
        if (subject is null && sessionId is null)
            throw Fail("subject", "it has neither a sub nor a sid claim, so it names no session", TokenKind.LogoutToken);
        var jwtId = StringClaim(token, "jti")
            ?? throw Fail("jti", "it has no jti claim, so a replay could not be told apart", TokenKind.LogoutToken);
        return new LogoutToken(Canonical(token.Issuer), subject, sessionId, jwtId, issuedAt, expiresAt);
    }

    private static readonly string[] LogoutTypes = ["logout+jwt", "application/logout+jwt", "JWT"];

    /// <summary>The largest clock skew a provider may be given for its ID and logout tokens (<c>IdTokenClockSkew</c>).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromHours(1);

    /// <summary>How old a logout token may be, by its <c>iat</c> and with or without <c>exp</c> (the specification asks providers for at most two minutes of lifetime).</summary>
    public static readonly TimeSpan LogoutTokenMaxAge = TimeSpan.FromMinutes(2);

    /// <summary>The event a logout token carries (OpenID Connect Back-Channel Logout 1.0 section 2.4).</summary>
    public const string BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    private enum TokenKind
    {
        IdToken,
        LogoutToken,
        UserInfo,
    }

    /// <summary>
    /// A signed UserInfo response (<c>application/jwt</c>, OpenID Connect Core 1.0 section 5.3.2): a public-key
    /// signature by a key of the provider's set, <c>iss</c> the provider's issuer and <c>aud</c> this client, as for an
    /// ID token; no lifetime is required (the response is fresh from the endpoint). Returns the claims as a JSON object,
    /// which the caller reads as it reads a plain response (its <c>sub</c> must be the account's). An encrypted response
    /// (JWE) is refused: O8Actors holds no decryption key.
    /// </summary>
    /// <exception cref="UserInfoException">A check failed (<see cref="UserInfoFailure.InvalidResponse"/>); the message says which, never the
    /// response. Or the key set could not be fetched (<see cref="UserInfoFailure.Failed"/>).</exception>
    public async Task<System.Text.Json.JsonElement> ValidateUserInfoAsync(string jwt, HttpClient http, CancellationToken cancellationToken)
    {
        JsonWebToken token;
        try
        {
            token = await ReadVerifiedAsync(jwt, TokenKind.UserInfo, http, cancellationToken).ConfigureAwait(false);
        }
        catch (IdTokenValidationException keys)
        {
            // Only the key set's fetch throws this here (every check of the response itself throws the UserInfo exception).
            throw new UserInfoException(UserInfoFailure.Failed,
                $"The signed UserInfo response of provider '{_provider}' could not be checked: the provider's key set could not be read. Its claims were not used.",
                innerException: keys);
        }

        var now = _time.GetUtcNow();
        if (token.TryGetPayloadValue<long>("exp", out var expSeconds) && NumericDate.Expiry(expSeconds) < NumericDate.Minus(now, _clockSkew))
            throw Fail("expired", $"it expired at {NumericDate.Expiry(expSeconds):O} (now {now:O})", TokenKind.UserInfo);
        try
        {
            using var claims = System.Text.Json.JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
            return claims.RootElement.Clone();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
        {
            throw Fail("malformed", "its payload is not a JSON object", TokenKind.UserInfo);
        }
    }

    /// <summary>
    /// The checks an ID token and a logout token share: a compact JWS, not encrypted, a public-key algorithm, a key of the
    /// provider's set (refetched once for an unknown key id, or for a signature no key verifies when the token's kid names no key of the set), the signature, <c>iss</c> and <c>aud</c>.
    /// </summary>
    private async Task<JsonWebToken> ReadVerifiedAsync(string jwt, TokenKind kind, HttpClient http, CancellationToken cancellationToken,
        long? keysDeadline = null)
    {
        var token = ReadSigned(jwt, _provider, kind);
        var keys = await Keys.GetAsync(http, cancellationToken, keysDeadline, anyoneMaySend: kind == TokenKind.LogoutToken).ConfigureAwait(false);
        var kid = token.Kid;
        var refetchedForKid = false;
        // A key without a kid may be the one a token's kid names (OpenID Connect Core 10.1 lets a provider with one key
        // leave kid out of its set); the handler then tries every key.
        bool MayHoldKid(IReadOnlyList<SecurityKey> set) => set.Any(k => k.KeyId == kid || string.IsNullOrEmpty(k.KeyId));
        Task<(IReadOnlyList<SecurityKey> Keys, bool Refetched)> RefetchAsync() =>
            Keys.RefetchAsync(http, cancellationToken, keysDeadline, anyoneMaySend: kind == TokenKind.LogoutToken);

        if (!string.IsNullOrEmpty(kid) && !MayHoldKid(keys))
        {
            // A key id the set lacks: the provider may have rotated its keys since the set was fetched.
            var (fresh, refetched) = await RefetchAsync().ConfigureAwait(false);
            refetchedForKid = refetched;
            if (!MayHoldKid(fresh))
            {
                if (refetched)
                    throw Fail("signature", $"its key id is not in the provider's key set at {Keys.Uri}, even after fetching it again", kind);
                throw NotRefetched("its key id is not in the provider's key set", kind);
            }
            keys = fresh;
        }

        var result = await ValidateAsync(token, kind, keys).ConfigureAwait(false);
        if (!result.IsValid && !refetchedForKid && result.Exception is SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
            && (string.IsNullOrEmpty(kid) || !keys.Any(k => k.KeyId == kid)))
        {
            // No key named by the token's kid (it has none, or only keys without one matched): the provider may have
            // rotated a key the set does not tell apart by kid. One fetch again, as for an unknown kid, within its limits.
            var (fresh, refetched) = await RefetchAsync().ConfigureAwait(false);
            if (!refetched) throw NotRefetched("no key of the provider's key set verifies it", kind);
            result = await ValidateAsync(token, kind, fresh).ConfigureAwait(false);
        }

        if (!result.IsValid)
            throw Classify(result.Exception, kind);
        return token;
    }

    /// <summary>
    /// The rate limit kept the set from being fetched again, so it cannot say whether the key is one the provider has just
    /// rotated in: as with a set that could not be read, a refresh keeps its tokens (which came from the token endpoint
    /// itself) without this ID token, rather than losing a refresh token it has already spent.
    /// </summary>
    private Exception NotRefetched(string what, TokenKind kind) => Fail(_provider, "signature",
        $"{what} at {Keys.Uri} (fetched again less than {JwksCache.MinRefetchInterval.TotalMinutes:0} minutes ago, so not refetched)",
        kind, keysUnavailable: true);

    private Task<TokenValidationResult> ValidateAsync(JsonWebToken token, TokenKind kind, IReadOnlyList<SecurityKey> keys)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = ExpectedIssuer(token, kind),
            ValidIssuers = IssuerAliases,
            ValidAudience = _clientId,
            ValidateIssuer = true,
            ValidateAudience = true,
            // exp and iat are compared by the callers against the injected clock (the handler reads the system clock).
            ValidateLifetime = false,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            IssuerSigningKeys = keys,
            ValidAlgorithms = Asymmetric,
            ClockSkew = _clockSkew,
            // No claim type mapping: the caller sees the JWT's own claim names.
            NameClaimType = "name",
        };
        return Handler.ValidateTokenAsync(token, parameters);
    }

    /// <summary>
    /// Refuses a logout token whose form alone is wrong (not a compact JWS, or not signed with a public-key algorithm)
    /// before anything is fetched for it: anyone can post one, and a provider that still has to read its metadata would
    /// otherwise start a discovery for each.
    /// </summary>
    /// <exception cref="BackChannelLogoutException">The form is wrong (<see cref="BackChannelLogoutFailure.InvalidToken"/>).</exception>
    public static void CheckLogoutTokenForm(string provider, string logoutToken) => ReadSigned(logoutToken, provider, TokenKind.LogoutToken);

    /// <summary>The checks of the token's form, which need no key: a compact JWS, not encrypted, with a public-key algorithm.</summary>
    private static JsonWebToken ReadSigned(string jwt, string provider, TokenKind kind)
    {
        JsonWebToken token;
        try
        {
            token = Handler.ReadJsonWebToken(jwt);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            // Not kept as the inner exception: the reader's message may quote the token (see Classify).
            throw Fail(provider, "malformed", "it is not a compact JWT", kind);
        }
        if (token.IsEncrypted)
            throw Fail(provider, "algorithm", "it is encrypted (JWE), which O8Actors does not accept", kind);

        var alg = token.Alg;
        if (string.IsNullOrEmpty(alg) || string.Equals(alg, "none", StringComparison.OrdinalIgnoreCase))
            throw Fail(provider, "algorithm", "it is unsigned (alg=none)", kind);
        if (!Asymmetric.Contains(alg, StringComparer.Ordinal))
            throw Fail(provider, "algorithm", $"its algorithm {Printable(alg)} is not a public-key signature (RS*, PS*, ES*)", kind);
        return token;
    }

    /// <summary><c>nbf</c>, when present, reached; <c>iat</c> present and not in the future; returns <c>iat</c>.</summary>
    private DateTimeOffset CheckIssuedAt(JsonWebToken token, TokenKind kind, DateTimeOffset now)
    {
        // An nbf past year 9999 is not reached yet; one before year 1 long has been. An iat no date holds is refused: past
        // 9999 it is in the future, and before year 1 it is no issue time a provider could mean.
        var latest = NumericDate.Plus(now, _clockSkew);
        if (token.TryGetPayloadValue<long>("nbf", out var nbfSeconds) && (nbfSeconds > NumericDate.MaxSeconds || NumericDate.ToTime(nbfSeconds) > latest))
            throw Fail("expired", "it is not valid yet (nbf)", kind, offClock: true);
        if (!token.TryGetPayloadValue<long>("iat", out var iatSeconds))
            throw Fail("issued-at", "it has no iat claim", kind);
        if (NumericDate.ToTime(iatSeconds) is not { } issuedAt)
            throw Fail("issued-at", "its iat is outside the years 1 to 9999", kind);
        if (issuedAt > latest)
            throw Fail("issued-at", $"it was issued in the future ({issuedAt:O}, now {now:O}, clock skew {_clockSkew.TotalSeconds:0} s)", kind, offClock: true);
        return issuedAt;
    }

    /// <summary>A string claim's value; null when absent, empty or not a string.</summary>
    private static string? StringClaim(JsonWebToken token, string name) =>
        token.TryGetPayloadValue<string>(name, out var value) && value is { Length: > 0 } ? value : null;

    /// <summary>The issuer, with a <see cref="TenantPlaceholder"/> filled from the token's <c>tid</c> (the signature still has to hold).</summary>
    private string ExpectedIssuer(JsonWebToken token, TokenKind kind)
    {
        if (!_issuer.Contains(TenantPlaceholder, StringComparison.Ordinal))
            return _issuer;
        if (!token.TryGetPayloadValue<string>("tid", out var tid) || !Guid.TryParse(tid, out var tenant))
            throw Fail("issuer", "it has no tenant id (tid) to check its issuer against", kind);
        return _issuer.Replace(TenantPlaceholder, tenant.ToString("D"), StringComparison.Ordinal);
    }

    /// <summary>A validated token's issuer: an alias the provider documents reads as the issuer (aliases exclude templates).</summary>
    private string Canonical(string issuer) => IssuerAliases.Contains(issuer, StringComparer.Ordinal) ? _issuer : issuer;

    /// <summary>
    /// Turns the handler's exception into a reason. Neither its message nor the exception itself is kept: with
    /// IdentityModel's PII logging switched on by the host, they may quote the token.
    /// </summary>
    private Exception Classify(Exception? error, TokenKind kind) => error switch
    {
        SecurityTokenInvalidAlgorithmException => Fail("algorithm", "its algorithm is not allowed", kind),
        SecurityTokenSignatureKeyNotFoundException => Fail("signature", "no key in the provider's key set verifies it", kind),
        SecurityTokenInvalidSignatureException => Fail("signature", "its signature does not verify with the provider's keys", kind),
        SecurityTokenExpiredException => Fail("expired", $"it has expired (clock skew {_clockSkew.TotalSeconds:0} s)", kind),
        SecurityTokenNoExpirationException => Fail("expired", "it has no exp claim", kind),
        SecurityTokenNotYetValidException => Fail("expired", "it is not valid yet (nbf)", kind),
        SecurityTokenInvalidLifetimeException => Fail("expired", "its lifetime is invalid", kind),
        SecurityTokenInvalidAudienceException => Fail("audience", "its audience does not include this client", kind),
        SecurityTokenInvalidIssuerException => Fail("issuer", $"its issuer is not '{_issuer}'", kind),
        _ => Fail("invalid", $"it did not validate ({error?.GetType().Name ?? "unknown reason"})", kind),
    };

    // offClock: a time claim failed against this machine's clock (IdTokenValidationException.ClockRelated).
    private Exception Fail(string check, string detail, TokenKind kind = TokenKind.IdToken, bool offClock = false) =>
        Fail(_provider, check, detail, kind, offClock: offClock);

    // keysUnavailable: the key set could not judge the token (its refetch was not allowed yet). For an ID token a refresh
    // then keeps its tokens without it. A logout token is Failed, not InvalidToken: anyone may post one, so a forged post
    // with an unknown key id spends the refetch budget of logout tokens (JwksCache), and a genuine token under a key rotated
    // in just after was refused for good (400) and its logout lost. Failed answers 500, which asks the provider to post it
    // again (the budget is free again within minutes); the endpoint's warnings are throttled per provider, so junk cannot
    // flood the log with them.
    private static Exception Fail(string provider, string check, string detail, TokenKind kind, bool keysUnavailable = false, bool offClock = false) => kind switch
    {
        TokenKind.IdToken => new IdTokenValidationException($"The ID token from '{provider}' failed validation ({check}): {detail}. No tokens were returned.")
        {
            KeysUnavailable = keysUnavailable,
            ClockRelated = offClock,
        },
        TokenKind.LogoutToken => new BackChannelLogoutException(keysUnavailable ? BackChannelLogoutFailure.Failed : BackChannelLogoutFailure.InvalidToken,
            $"The logout token from '{provider}' failed validation ({check}): {detail}. No account was signed out."),
        _ => new UserInfoException(UserInfoFailure.InvalidResponse,
            $"The signed UserInfo response of provider '{provider}' failed validation ({check}): {detail}. Its claims were not used."),
    };

    /// <summary>An algorithm name is shown only when it looks like one: it comes from the token's header.</summary>
    private static string Printable(string alg) => AlgorithmName().IsMatch(alg) ? $"'{alg}'" : "(unprintable)";

    [GeneratedRegex("^[A-Za-z0-9+_-]{1,16}$")]
    private static partial Regex AlgorithmName();

    /// <summary>An acr value is shown only when it looks like one (a short name or a URI): it comes from the token.</summary>
    private static string PrintableAcr(string acr) => AcrValue().IsMatch(acr) ? $"'{acr}'" : "(unprintable)";

    [GeneratedRegex("^[A-Za-z0-9:/._+#-]{1,128}$")]
    private static partial Regex AcrValue();
}
