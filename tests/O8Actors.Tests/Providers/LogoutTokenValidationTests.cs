using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 section 2.6) through a real strategy: the JWKS is
/// served by a local Kestrel server and the tokens are minted with JsonWebTokenHandler under keys made here. Each forged
/// or malformed token is one test; each checks the reason names the check and never quotes the token.
/// </summary>
public sealed class LogoutTokenValidationTests : IAsyncLifetime
{
    private const string ClientId = "client-1";
    private const string LogoutType = "logout+jwt";
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly HttpClient _http = new();
    private readonly TestIdTokens _keys = new();
    private readonly MovableTimeProvider _clock = new(Start);
    private RecordingServer _server = null!;
    private ECDsaSecurityKey _signing = null!;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _signing = _keys.EcKey("k1");
        _server.Handler = (context, request) => request.Path == "/jwks"
            ? RecordingServer.Respond(context, 200, "application/json", _keys.Jwks())
            : RecordingServer.Respond(context, 404, "text/plain", "not found");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _keys.Dispose();
        await _server.DisposeAsync();
    }

    private string Issuer => _server.BaseUrl;

    private GenericOAuthStrategy Strategy(bool withKeys = true)
    {
        var options = Options(_server.Url("/token"));
        options.ClientId = ClientId;
        options.Issuer = Issuer;
        if (withKeys) options.JwksUri = _server.Url("/jwks");
        return new GenericOAuthStrategy(options, _clock);
    }

    /// <summary>The claims of a good logout token at the test's clock: a user and a session, the event, a fresh jti.</summary>
    private Dictionary<string, object> Claims() => new()
    {
        ["iss"] = Issuer,
        ["aud"] = ClientId,
        ["iat"] = _clock.Now.ToUnixTimeSeconds(),
        ["exp"] = _clock.Now.AddMinutes(2).ToUnixTimeSeconds(),
        ["jti"] = "jti-" + Guid.NewGuid().ToString("N"),
        ["sub"] = "user-42",
        ["sid"] = "session-7",
        ["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = new Dictionary<string, object>() },
    };

    private Task<LogoutToken?> Validate(string token) => Strategy().ValidateLogoutTokenAsync(token, _http, CancellationToken.None);

    /// <summary>The token is refused with a reason naming <paramref name="check"/>; no part of it appears in the reason.</summary>
    private async Task Refused(string token, string check)
    {
        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => Validate(token));
        Assert.Equal(BackChannelLogoutFailure.InvalidToken, error.Failure);
        Assert.Contains($"({check})", error.Message, StringComparison.Ordinal);
        Assert.Contains("No account was signed out", error.Message, StringComparison.Ordinal);
        foreach (var part in token.Split('.').Where(p => p.Length > 0))
            Assert.DoesNotContain(part, error.Message, StringComparison.Ordinal);
        Assert.Null(error.InnerException);
    }

    private string Mint(Action<Dictionary<string, object>>? change = null, SecurityKey? key = null, string? type = LogoutType)
    {
        var claims = Claims();
        change?.Invoke(claims);
        return TestIdTokens.Mint(claims, key ?? _signing, type: type);
    }

    [Fact]
    public async Task A_valid_token_yields_its_user_session_and_id()
    {
        var claims = Claims();
        var token = await Validate(TestIdTokens.Mint(claims, _signing, type: LogoutType));

        Assert.NotNull(token);
        Assert.Equal(Issuer, token.Issuer);
        Assert.Equal("user-42", token.Subject);
        Assert.Equal("session-7", token.SessionId);
        Assert.Equal(claims["jti"], token.JwtId);
        Assert.Equal(Start, token.IssuedAt);
        Assert.Equal(Start.AddMinutes(2), token.ExpiresAt);
    }

    [Fact]
    public async Task A_token_naming_only_a_session_or_only_a_user_is_valid()
    {
        var sessionOnly = await Validate(Mint(c => c.Remove("sub")));
        var userOnly = await Validate(Mint(c => c.Remove("sid")));

        Assert.Equal(("session-7", (string?)null), (sessionOnly!.SessionId, sessionOnly.Subject));
        Assert.Equal(("user-42", (string?)null), (userOnly!.Subject, userOnly.SessionId));
    }

    [Fact]
    public async Task Without_a_typ_header_or_with_the_generic_JWT_one_the_token_is_accepted()
    {
        var untyped = UntypedToken(Claims());
        Assert.DoesNotContain("typ", System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(untyped.Split('.')[0])), StringComparison.Ordinal);

        Assert.NotNull(await Validate(untyped));
        Assert.NotNull(await Validate(Mint(type: "JWT")));
        Assert.NotNull(await Validate(Mint(type: "application/logout+jwt")));
    }

    /// <summary>
    /// A token signed with the published key whose header has no <c>typ</c> at all (JsonWebTokenHandler always writes
    /// one, so it is put together here): ES256 over the header and the claims, the signature in JWS's r‖s form.
    /// </summary>
    private string UntypedToken(Dictionary<string, object> claims)
    {
        static string Encode(object json) => System.Buffers.Text.Base64Url.EncodeToString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(json));
        var signingInput = $"{Encode(new Dictionary<string, string> { ["alg"] = "ES256", ["kid"] = "k1" })}.{Encode(claims)}";
        var signature = _signing.ECDsa.SignData(System.Text.Encoding.ASCII.GetBytes(signingInput), System.Security.Cryptography.HashAlgorithmName.SHA256);
        return $"{signingInput}.{System.Buffers.Text.Base64Url.EncodeToString(signature)}";
    }

    [Fact]
    public async Task A_token_typed_as_another_kind_of_JWT_is_refused_for_its_type()
    {
        // An access token in JWT form (RFC 9068) for this client must not end sessions.
        await Refused(Mint(type: "at+jwt"), "type");
    }

    [Fact]
    public async Task A_token_signed_by_a_key_the_provider_does_not_publish_is_refused_for_its_signature()
    {
        var forger = _keys.EcKey("k1", publish: false);
        await Refused(Mint(key: forger), "signature");
    }

    [Fact]
    public async Task A_genuine_token_under_a_key_rotated_in_since_the_set_was_fetched_is_looked_up_and_accepted()
    {
        // The key set was fetched a moment ago (a login's check, here a first logout token); then the provider rotates its
        // key. Before, the 5-minute refetch limit counted that fetch, so the genuine token was refused for good (400) and
        // the logout lost; logout tokens now look an unknown key id up on a budget of their own.
        var strategy = Strategy();
        Assert.NotNull(await strategy.ValidateLogoutTokenAsync(Mint(), _http, CancellationToken.None));
        var rotated = _keys.EcKey("k2");

        var token = await strategy.ValidateLogoutTokenAsync(Mint(key: rotated), _http, CancellationToken.None);

        Assert.Equal("user-42", token?.Subject);
    }

    /// <summary>
    /// Anyone may post to the back-channel endpoint: a forged token naming an unknown key id spends the refetch budget of
    /// logout tokens, and a genuine one signed under a key rotated in just after was refused as invalid (a final 400, a
    /// Debug line), so the logout was lost. It is Failed now (a 500 and a Warning): the provider posts it again, and the
    /// post after the budget's interval looks the key up and is accepted.
    /// </summary>
    [Fact]
    public async Task A_genuine_token_under_a_new_key_after_a_forged_post_spent_the_refetch_fails_for_a_retry_not_as_invalid()
    {
        var strategy = Strategy();
        Assert.NotNull(await strategy.ValidateLogoutTokenAsync(Mint(), _http, CancellationToken.None));
        var forged = await Assert.ThrowsAsync<BackChannelLogoutException>(() =>
            strategy.ValidateLogoutTokenAsync(Mint(key: _keys.EcKey("zz", publish: false)), _http, CancellationToken.None));
        Assert.Equal(BackChannelLogoutFailure.InvalidToken, forged.Failure);
        _clock.Now += TimeSpan.FromMinutes(1);
        var rotated = _keys.EcKey("k2");
        var genuine = Mint(key: rotated);

        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => strategy.ValidateLogoutTokenAsync(genuine, _http, CancellationToken.None));

        Assert.Equal(BackChannelLogoutFailure.Failed, error.Failure);
        Assert.Contains("not refetched", error.Message, StringComparison.Ordinal);
        foreach (var part in genuine.Split('.')) Assert.DoesNotContain(part, error.Message, StringComparison.Ordinal);
        // The provider's retry once the interval has passed.
        _clock.Now += TimeSpan.FromMinutes(5);
        Assert.Equal("user-42", (await strategy.ValidateLogoutTokenAsync(genuine, _http, CancellationToken.None))?.Subject);
    }

    [Fact]
    public async Task An_unsigned_token_is_refused_for_its_algorithm()
    {
        var claims = Claims();
        await Refused(TestIdTokens.Mint(claims, key: null), "algorithm");
    }

    [Fact]
    public async Task A_token_signed_with_a_shared_secret_is_refused_for_its_algorithm()
    {
        // HS256 with the client secret would let anyone holding the secret (every instance of a desktop app) log users out.
        var secret = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(ClientSecret.PadRight(32, 'x')));
        await Refused(TestIdTokens.Mint(Claims(), secret), "algorithm");
    }

    [Fact]
    public async Task A_token_for_another_client_is_refused_for_its_audience()
    {
        await Refused(Mint(c => c["aud"] = "another-client"), "audience");
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_refused_for_its_issuer()
    {
        await Refused(Mint(c => c["iss"] = "https://evil.example.test"), "issuer");
    }

    [Fact]
    public async Task An_expired_token_is_refused_and_one_without_exp_only_while_its_iat_is_fresh()
    {
        await Refused(Mint(c => c["exp"] = Start.AddMinutes(-10).ToUnixTimeSeconds()), "expired");

        Assert.NotNull(await Validate(Mint(c => c.Remove("exp"))));
        var old = Mint(c =>
        {
            c.Remove("exp");
            c["iat"] = Start.AddMinutes(-30).ToUnixTimeSeconds();
        });
        await Refused(old, "expired");
    }

    [Fact]
    public async Task A_token_issued_longer_ago_than_the_maximum_age_is_refused_however_far_its_exp()
    {
        // A captured token with a day of lifetime: the replay guard (in memory) forgets its jti on a restart, and its exp
        // alone would let it be posted again until then. Its iat, ten minutes back, is past the two minutes and the
        // default five minutes of skew.
        await Refused(Mint(c =>
        {
            c["iat"] = Start.AddMinutes(-10).ToUnixTimeSeconds();
            c["exp"] = Start.AddDays(1).ToUnixTimeSeconds();
        }), "expired");
        // Within the age and the skew it is still accepted, however far its exp.
        Assert.NotNull(await Validate(Mint(c =>
        {
            c["iat"] = Start.AddMinutes(-6).ToUnixTimeSeconds();
            c["exp"] = Start.AddDays(1).ToUnixTimeSeconds();
        })));
    }

    [Fact]
    public async Task Times_beyond_what_a_date_holds_never_throw_a_far_exp_is_valid_and_an_iat_there_is_refused()
    {
        // 253402300700 is within DateTimeOffset but not with the skew added; 253402300800 is beyond it.
        var farFuture = await Validate(Mint(c => c["exp"] = 253402300800L));
        Assert.Equal(DateTimeOffset.MaxValue, farFuture!.ExpiresAt);
        Assert.Equal(DateTimeOffset.MaxValue, O8Actors.Logout.LogoutTokenReplayGuard.KeepUntil(farFuture));
        Assert.NotNull(await Validate(Mint(c => c["exp"] = 253402300700L)));

        await Refused(Mint(c => c["exp"] = long.MinValue), "expired");
        await Refused(Mint(c => c["iat"] = 253402300800L), "issued-at");
        await Refused(Mint(c => c["iat"] = long.MinValue), "issued-at");
        await Refused(Mint(c =>
        {
            c.Remove("exp");
            c["iat"] = 253402300700L;
        }), "issued-at");
    }

    [Fact]
    public async Task A_token_issued_in_the_future_or_without_iat_is_refused()
    {
        await Refused(Mint(c => c["iat"] = Start.AddHours(1).ToUnixTimeSeconds()), "issued-at");
        await Refused(Mint(c => c.Remove("iat")), "issued-at");
    }

    [Fact]
    public async Task An_ID_token_posted_as_a_logout_token_is_refused()
    {
        // A valid ID token of this client: signed, for this audience, fresh. It has no logout event, and a nonce.
        var idToken = TestIdTokens.Mint(TestIdTokens.Claims(Issuer, ClientId, "n0nce", _clock.Now), _signing);
        await Refused(idToken, "events");
        // The same with the event added: the nonce still gives it away (section 2.6, step 6).
        await Refused(Mint(c => c["nonce"] = "n0nce"), "nonce");
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("array")]
    [InlineData("other-event")]
    [InlineData("event-not-object")]
    public async Task A_token_without_the_logout_event_as_an_object_member_is_refused_for_its_events(string shape)
    {
        const string logoutEvent = "http://schemas.openid.net/event/backchannel-logout";
        await Refused(Mint(c =>
        {
            switch (shape)
            {
                case "missing": c.Remove("events"); break;
                // An early draft's array form.
                case "array": c["events"] = new[] { logoutEvent }; break;
                case "other-event": c["events"] = new Dictionary<string, object> { ["https://schemas.example.test/event/other"] = new Dictionary<string, object>() }; break;
                default: c["events"] = new Dictionary<string, object> { [logoutEvent] = "yes" }; break;
            }
        }), "events");
    }

    [Fact]
    public async Task A_token_naming_neither_user_nor_session_is_refused()
    {
        await Refused(Mint(c =>
        {
            c.Remove("sub");
            c.Remove("sid");
        }), "subject");
    }

    [Fact]
    public async Task A_token_without_jti_is_refused_since_its_replay_could_not_be_told()
    {
        await Refused(Mint(c => c.Remove("jti")), "jti");
    }

    [Fact]
    public async Task A_provider_without_a_key_set_validates_no_logout_token()
    {
        var strategy = Strategy(withKeys: false);
        Assert.Null(await strategy.ValidateLogoutTokenAsync(Mint(), _http, CancellationToken.None));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task The_key_set_unreachable_fails_the_check_as_Failed_not_as_an_invalid_token()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 503, "text/plain", "down");
        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => Validate(Mint()));
        Assert.Equal(BackChannelLogoutFailure.Failed, error.Failure);
        Assert.Contains("key set", error.Message, StringComparison.Ordinal);
    }
}
