using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Providers;
using O8Actors.Providers.IdTokens;
using O8Actors.TestSupport;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// ID token validation (OpenID Connect Core 1.0 section 3.1.3.7) through a real strategy: the token endpoint and the
/// JWKS are served by a local Kestrel server, the tokens are minted with JsonWebTokenHandler under keys made here.
/// Each attack is one test; each checks that no tokens come back and that the reason names the check, not the token.
/// </summary>
public sealed class IdTokenValidationTests : TestKit, IAsyncLifetime
{
    private const string ClientId = "client-1";
    private const string Nonce = "n0nce-of-this-login-Q2xpZW50";
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private readonly HttpClient _http = new();
    private readonly TestIdTokens _keys = new();
    private readonly MovableTimeProvider _clock = new(Start);
    private RecordingServer _server = null!;
    private ECDsaSecurityKey _signing = null!;
    private string _idToken = "";
    private bool _jwksDown;
    private readonly TaskCompletionSource _jwksHangsUntil = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _jwksHangs;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _signing = _keys.EcKey("k1");
        _server.Handler = (context, request) => request.Path switch
        {
            "/jwks" when _jwksHangs => _jwksHangsUntil.Task.WaitAsync(context.RequestAborted),
            "/jwks" => _jwksDown
                ? RecordingServer.Respond(context, 503, "text/plain", "down")
                : RecordingServer.Respond(context, 200, "application/json", _keys.Jwks()),
            "/token" => RecordingServer.Respond(context, 200, "application/json",
                new JsonObject { ["access_token"] = "SECRET-ACCESS-1", ["token_type"] = "Bearer", ["id_token"] = _idToken }.ToJsonString()),
            "/revoke" => RecordingServer.Respond(context, 200, "text/plain", ""),
            "/.well-known/openid-configuration" => RecordingServer.Respond(context, 200, "application/json", new JsonObject
            {
                ["issuer"] = Issuer,
                ["authorization_endpoint"] = $"{Issuer}/authorize",
                ["token_endpoint"] = $"{Issuer}/token",
                ["jwks_uri"] = $"{Issuer}/jwks",
                ["code_challenge_methods_supported"] = new JsonArray("S256"),
            }.ToJsonString()),
            _ => RecordingServer.Respond(context, 404, "text/plain", "not found"),
        };
    }

    public async Task DisposeAsync()
    {
        _jwksHangsUntil.TrySetResult();
        _http.Dispose();
        _keys.Dispose();
        await _server.DisposeAsync();
    }

    private string Issuer => _server.BaseUrl;

    private int JwksFetches => _server.Requests.Count(r => r.Path == "/jwks");

    private GenericOAuthStrategy Strategy(Action<GenericOAuthOptions>? change = null)
    {
        var options = Options(_server.Url("/token"));
        options.ClientId = ClientId;
        options.Issuer = Issuer;
        options.JwksUri = _server.Url("/jwks");
        change?.Invoke(options);
        return new GenericOAuthStrategy(options, _clock);
    }

    private Dictionary<string, object> Claims(string? nonce = Nonce) => TestIdTokens.Claims(Issuer, ClientId, nonce, _clock.Now);

    private Task<TokenSet> Exchange(GenericOAuthStrategy strategy, string idToken, string? nonce = Nonce, DateTimeOffset? notBefore = null)
    {
        _idToken = idToken;
        return strategy.ExchangeCodeAsync(new CodeExchangeContext(Code, Verifier, RedirectUri, nonce) { AuthenticatedNotBefore = notBefore },
            _http, CancellationToken.None);
    }

    /// <summary>The exchange fails with a reason naming <paramref name="check"/>; the token appears nowhere in it.</summary>
    private async Task<IdTokenValidationException> Refused(GenericOAuthStrategy strategy, string idToken, string check, string? nonce = Nonce,
        DateTimeOffset? notBefore = null)
    {
        var error = await Assert.ThrowsAsync<IdTokenValidationException>(() => Exchange(strategy, idToken, nonce, notBefore));
        Assert.Contains($"({check})", error.Message, StringComparison.Ordinal);
        foreach (var part in idToken.Split('.').Where(p => p.Length > 0))
            Assert.DoesNotContain(part, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Nonce, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-ACCESS-1", error.Message, StringComparison.Ordinal);
        AssertNoSecrets(error);
        return error;
    }

    [Fact]
    public async Task A_valid_ES256_token_yields_its_claims_and_the_key_set_is_fetched_once_per_provider()
    {
        var strategy = Strategy();

        var first = await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));
        var second = await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));

        var claims = Assert.IsType<IdTokenClaims>(first.IdTokenClaims);
        Assert.Equal("user-42", claims.Subject);
        Assert.Equal(Issuer, claims.Issuer);
        Assert.Equal([ClientId], claims.Audiences);
        Assert.Equal("ada@example.test", claims.Email);
        Assert.Equal("Ada", claims.Name);
        Assert.Equal(Start.AddMinutes(10), claims.ExpiresAt);
        Assert.Contains(claims.All, c => c.Type == "nonce");
        Assert.Equal("user-42", claims.ToPrincipal().FindFirst("sub")?.Value);
        Assert.NotNull(second.IdTokenClaims);
        Assert.Equal(1, JwksFetches);
        // Printing the set shows neither the token nor who signed in.
        Assert.DoesNotContain(first.IdToken!, first.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("user-42", first.ToString() + claims, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.test", claims.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_RS256_token_is_accepted()
    {
        var rsa = _keys.RsaKey("r1");
        var tokens = await Exchange(Strategy(), TestIdTokens.Mint(Claims(), rsa));
        Assert.Equal("user-42", tokens.IdTokenClaims?.Subject);
    }

    [Fact]
    public async Task A_token_signed_by_another_key_under_a_published_key_id_is_refused_for_its_signature()
    {
        var forger = _keys.EcKey("k1", publish: false);
        await Refused(Strategy(), TestIdTokens.Mint(Claims(), forger), "signature");
    }

    /// <summary>
    /// The subject becomes the account's key, printed in log lines and exception messages: one signed with a line break
    /// or an escape by a malicious provider would forge them.
    /// </summary>
    [Theory]
    [InlineData("user\n2026-12-06 [WARN] forged")]
    [InlineData("user\u001b[2J")]
    [InlineData("user\u202Eevil")]
    public async Task A_subject_with_control_or_formatting_characters_is_refused(string escaped)
    {
        var claims = Claims();
        claims["sub"] = System.Text.RegularExpressions.Regex.Unescape(escaped);
        await Refused(Strategy(), TestIdTokens.Mint(claims, _signing), "malformed");
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var claims = Claims();
        claims["aud"] = "some-other-client";
        await Refused(Strategy(), TestIdTokens.Mint(claims, _signing), "audience");
    }

    [Fact]
    public async Task Several_audiences_need_an_azp_naming_this_client()
    {
        var strategy = Strategy();
        var claims = Claims();
        claims["aud"] = new[] { ClientId, "some-other-client" };
        await Refused(strategy, TestIdTokens.Mint(claims, _signing), "audience");

        claims["azp"] = "some-other-client";
        await Refused(strategy, TestIdTokens.Mint(claims, _signing), "audience");

        claims["azp"] = ClientId;
        var tokens = await Exchange(strategy, TestIdTokens.Mint(claims, _signing));
        Assert.Equal([ClientId, "some-other-client"], tokens.IdTokenClaims!.Audiences);
    }

    [Fact]
    public async Task An_expired_token_is_refused_but_one_within_the_clock_skew_is_accepted()
    {
        var strategy = Strategy(o => o.IdTokenClockSkew = TimeSpan.FromMinutes(2));
        var claims = Claims();
        claims["iat"] = Start.AddMinutes(-30).ToUnixTimeSeconds();
        claims["exp"] = Start.AddMinutes(-3).ToUnixTimeSeconds();
        await Refused(strategy, TestIdTokens.Mint(claims, _signing), "expired");

        claims["exp"] = Start.AddMinutes(-1).ToUnixTimeSeconds();
        Assert.NotNull((await Exchange(strategy, TestIdTokens.Mint(claims, _signing))).IdTokenClaims);
    }

    [Fact]
    public async Task A_token_issued_in_the_future_beyond_the_skew_is_refused()
    {
        var claims = Claims();
        claims["iat"] = Start.AddMinutes(6).ToUnixTimeSeconds();
        claims["exp"] = Start.AddMinutes(20).ToUnixTimeSeconds();
        await Refused(Strategy(), TestIdTokens.Mint(claims, _signing), "issued-at");
    }

    [Fact]
    public async Task Times_beyond_what_a_date_holds_never_throw_an_exp_there_is_far_future_and_an_iat_or_auth_time_is_refused()
    {
        var strategy = Strategy();
        const long NearEnd = 253402300700; // within DateTimeOffset, but not with the clock skew added
        const long PastEnd = 253402300800; // beyond DateTimeOffset
        foreach (var exp in new[] { NearEnd, PastEnd, long.MaxValue })
        {
            var farFuture = Claims();
            farFuture["exp"] = exp;
            var tokens = await Exchange(strategy, TestIdTokens.Mint(farFuture, _signing));
            Assert.True(tokens.IdTokenClaims!.ExpiresAt.Year >= 9999);
        }

        var longPast = Claims();
        longPast["exp"] = long.MinValue;
        await Refused(strategy, TestIdTokens.Mint(longPast, _signing), "expired");
        foreach (var iat in new[] { NearEnd, PastEnd, long.MinValue })
        {
            var claims = Claims();
            claims["iat"] = iat;
            await Refused(strategy, TestIdTokens.Mint(claims, _signing), "issued-at");
        }

        var notYet = Claims();
        notYet["nbf"] = PastEnd;
        await Refused(strategy, TestIdTokens.Mint(notYet, _signing), "expired");
        foreach (var authTime in new[] { PastEnd, long.MinValue })
            await Refused(strategy, SignedInAtSeconds(authTime), "auth-time", notBefore: Start.AddMinutes(-5));
        // Representable, however odd: compared with the skew without overflowing.
        Assert.NotNull((await Exchange(strategy, SignedInAtSeconds(NearEnd), notBefore: Start.AddMinutes(-5))).IdTokenClaims);

        string SignedInAtSeconds(long authTime)
        {
            var claims = Claims();
            claims["auth_time"] = authTime;
            return TestIdTokens.Mint(claims, _signing);
        }
    }

    [Fact]
    public async Task A_token_that_is_not_a_jwt_is_refused_as_malformed_and_no_inner_exception_carries_it()
    {
        var error = await Refused(Strategy(), "SECRET-NOT-A-JWT-bm90LWEtand0", "malformed");
        Assert.Null(error.InnerException);

        var forger = _keys.EcKey("k1", publish: false);
        var forged = await Refused(Strategy(), TestIdTokens.Mint(Claims(), forger), "signature");
        Assert.Null(forged.InnerException);
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_refused()
    {
        var claims = Claims();
        claims["iss"] = "https://evil.example.test";
        await Refused(Strategy(), TestIdTokens.Mint(claims, _signing), "issuer");
    }

    [Fact]
    public async Task A_token_with_another_logins_nonce_or_none_is_refused()
    {
        var strategy = Strategy();
        await Refused(strategy, TestIdTokens.Mint(Claims(nonce: "nonce-of-another-login"), _signing), "nonce");
        await Refused(strategy, TestIdTokens.Mint(Claims(nonce: null), _signing), "nonce");
    }

    private string SignedInAt(DateTimeOffset authTime)
    {
        var claims = Claims();
        claims["auth_time"] = authTime.ToUnixTimeSeconds();
        return TestIdTokens.Mint(claims, _signing);
    }

    [Fact]
    public async Task With_max_age_a_sign_in_within_it_passes_and_an_older_one_or_none_is_refused()
    {
        var strategy = Strategy(o => o.IdTokenClockSkew = TimeSpan.FromMinutes(2));
        // The login started now and asked for max_age = 10 minutes.
        var notBefore = _clock.Now - TimeSpan.FromMinutes(10);

        var recent = await Exchange(strategy, SignedInAt(_clock.Now - TimeSpan.FromMinutes(9)), notBefore: notBefore);
        var withinSkew = await Exchange(strategy, SignedInAt(notBefore - TimeSpan.FromMinutes(1)), notBefore: notBefore);

        Assert.NotNull(recent.IdTokenClaims);
        Assert.NotNull(withinSkew.IdTokenClaims);
        var error = await Refused(strategy, SignedInAt(notBefore - TimeSpan.FromMinutes(3)), "auth-time", notBefore: notBefore);
        Assert.Contains("did not ask the user again", error.Message);
        await Refused(strategy, TestIdTokens.Mint(Claims(), _signing), "auth-time", notBefore: notBefore);
        // Without max_age an old sign-in is a sign-in.
        Assert.NotNull((await Exchange(strategy, SignedInAt(_clock.Now - TimeSpan.FromDays(30)))).IdTokenClaims);
    }

    private string SignedInWith(string? acr)
    {
        var claims = Claims();
        if (acr is not null) claims["acr"] = acr;
        return TestIdTokens.Mint(claims, _signing);
    }

    private Task<TokenSet> ExchangeAsking(GenericOAuthStrategy strategy, string idToken, params string[] acrValues)
    {
        _idToken = idToken;
        return strategy.ExchangeCodeAsync(new CodeExchangeContext(Code, Verifier, RedirectUri, Nonce) { AcceptedAcrValues = acrValues },
            _http, CancellationToken.None);
    }

    [Fact]
    public async Task With_acr_values_a_sign_in_of_an_asked_class_passes_and_another_or_none_is_refused()
    {
        var strategy = Strategy();
        const string mfa = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

        var passed = await ExchangeAsking(strategy, SignedInWith(mfa), "phr", mfa);

        Assert.Equal(mfa, passed.IdTokenClaims!.All.Single(c => c.Type == "acr").Value);
        var weaker = await Assert.ThrowsAsync<IdTokenValidationException>(() => ExchangeAsking(strategy, SignedInWith("pwd"), "phr", mfa));
        Assert.Contains("(acr)", weaker.Message);
        Assert.Contains("'pwd'", weaker.Message);
        var none = await Assert.ThrowsAsync<IdTokenValidationException>(() => ExchangeAsking(strategy, SignedInWith(null), "phr"));
        Assert.Contains("no acr claim", none.Message);
        // A value the token made up is not quoted.
        var odd = await Assert.ThrowsAsync<IdTokenValidationException>(() => ExchangeAsking(strategy, SignedInWith("<script>alert(1)</script>"), "phr"));
        Assert.DoesNotContain("<script>", odd.Message);
    }

    [Fact]
    public async Task With_max_age_a_provider_that_validates_no_ID_tokens_is_refused_before_the_code_is_sent()
    {
        var strategy = Strategy(o => o.JwksUri = null);

        var error = await Assert.ThrowsAsync<IdTokenValidationException>(() => Exchange(strategy, "", notBefore: _clock.Now));

        Assert.Contains("max_age", error.Message);
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/token");
    }

    [Fact]
    public async Task An_unsigned_alg_none_token_is_refused_without_fetching_keys()
    {
        var unsigned = TestIdTokens.Mint(Claims(), key: null);
        Assert.EndsWith(".", unsigned, StringComparison.Ordinal);

        var error = await Refused(Strategy(), unsigned, "algorithm");

        Assert.Contains("alg=none", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, JwksFetches);
    }

    [Fact]
    public async Task An_HS256_token_is_refused_for_a_public_key_provider()
    {
        var secret = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(ClientSecret.PadRight(32, 'x'))) { KeyId = "k1" };
        var error = await Refused(Strategy(), TestIdTokens.Mint(Claims(), secret, SecurityAlgorithms.HmacSha256), "algorithm");
        Assert.Contains("'HS256'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, JwksFetches);
    }

    [Fact]
    public async Task An_unknown_key_id_refetches_the_key_set_once_and_a_second_within_the_rate_limit_does_not()
    {
        var strategy = Strategy();
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));
        Assert.Equal(1, JwksFetches);
        _clock.Now = Start.AddMinutes(6);

        var stranger = _keys.EcKey("k9", publish: false);
        var first = await Refused(strategy, TestIdTokens.Mint(Claims(), stranger), "signature");
        Assert.Contains("even after fetching it again", first.Message, StringComparison.Ordinal);
        Assert.Equal(2, JwksFetches);

        var another = _keys.EcKey("k10", publish: false);
        var second = await Refused(strategy, TestIdTokens.Mint(Claims(), another), "signature");
        Assert.Contains("not refetched", second.Message, StringComparison.Ordinal);
        Assert.Equal(2, JwksFetches);
    }

    [Fact]
    public async Task A_rotated_key_is_found_by_the_refetch_and_the_login_succeeds()
    {
        var strategy = Strategy();
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));
        _clock.Now = Start.AddMinutes(10);
        var rotated = _keys.EcKey("k2");

        var tokens = await Exchange(strategy, TestIdTokens.Mint(Claims(), rotated));

        Assert.Equal("user-42", tokens.IdTokenClaims?.Subject);
        Assert.Equal(2, JwksFetches);
    }

    /// <summary>
    /// A provider with one key may leave kid out (OpenID Connect Core 10.1). When it replaces that key, a token without a
    /// kid found no key and no refetch: every login failed until the set's 12 h age ran out. One refetch finds the new key.
    /// </summary>
    [Fact]
    public async Task A_replaced_key_without_a_kid_is_found_by_one_refetch()
    {
        _keys.WithdrawAll();
        var first = _keys.EcKey(kid: null);
        var strategy = Strategy();
        await Exchange(strategy, TestIdTokens.Mint(Claims(), first));
        _clock.Now = Start.AddMinutes(10);
        _keys.WithdrawAll();
        var replaced = _keys.EcKey(kid: null);

        var tokens = await Exchange(strategy, TestIdTokens.Mint(Claims(), replaced));

        Assert.Equal("user-42", tokens.IdTokenClaims?.Subject);
        Assert.Equal(2, JwksFetches);
        // A token that still does not verify after that fetch is refused, without fetching again at once.
        var forged = _keys.EcKey(kid: null, publish: false);
        await Refused(strategy, TestIdTokens.Mint(Claims(), forged), "signature");
        Assert.Equal(2, JwksFetches);
    }

    /// <summary>
    /// The kid-less key replaced within minutes of the set's last fetch: the rate limit keeps the set from being fetched
    /// again, so it cannot judge the token. A refresh keeps its tokens without the ID token (its refresh token is spent),
    /// as for an unknown kid; it lost them, and the user had to sign in again.
    /// </summary>
    [Fact]
    public async Task A_refresh_signed_by_a_kid_less_key_replaced_within_the_refetch_interval_keeps_its_tokens()
    {
        _keys.WithdrawAll();
        var first = _keys.EcKey(kid: null);
        var strategy = Strategy();
        await Exchange(strategy, TestIdTokens.Mint(Claims(), first)); // the set fetched now
        _clock.Now = Start.AddMinutes(2);
        _keys.WithdrawAll();
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _keys.EcKey(kid: null));

        var refreshed = await strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None);

        Assert.Equal(("SECRET-ACCESS-1", null), (refreshed.AccessToken, refreshed.IdTokenClaims));
        Assert.Equal(1, JwksFetches);
    }

    /// <summary>A token naming a kid, from a provider whose set gives its keys none: the keys are tried, as the handler does.</summary>
    [Fact]
    public async Task A_token_naming_a_kid_verifies_against_a_key_set_whose_keys_have_none()
    {
        _keys.WithdrawAll();
        var keyless = _keys.EcKey(kid: null);

        var tokens = await Exchange(Strategy(), TestIdTokens.Mint(Claims(), new ECDsaSecurityKey(keyless.ECDsa) { KeyId = "abc" }));

        Assert.Equal("user-42", tokens.IdTokenClaims?.Subject);
        Assert.Equal(1, JwksFetches);
    }

    [Fact]
    public async Task Keys_older_than_the_max_age_are_fetched_again_and_the_old_ones_serve_while_the_endpoint_is_down()
    {
        var strategy = Strategy();
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));
        _clock.Now = Start.AddHours(13);
        _jwksDown = true;

        var during = await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));

        Assert.NotNull(during.IdTokenClaims);
        Assert.Equal(2, JwksFetches);
        _jwksDown = false;
        // Within the backoff after the failed fetch the keys held serve without asking the endpoint again.
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));
        Assert.Equal(2, JwksFetches);
        _clock.Now += JwksCache.FirstRetryDelay;
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));
        Assert.Equal(3, JwksFetches);
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));
        Assert.Equal(3, JwksFetches);
    }

    [Fact]
    public async Task An_unreachable_key_set_fails_the_login_with_a_clear_reason()
    {
        _jwksDown = true;
        var error = await Refused(Strategy(), TestIdTokens.Mint(Claims(), _signing), "keys");
        Assert.Contains("answered HTTP 503", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_templated_issuer_is_filled_from_the_tokens_tenant()
    {
        var tenant = Guid.NewGuid();
        var strategy = Strategy(o =>
        {
            o.Issuer = null;
            o.IdTokenIssuer = Issuer + "/{tenantid}/v2.0";
        });
        var claims = Claims();
        claims["tid"] = tenant.ToString();
        claims["iss"] = $"{Issuer}/{tenant:D}/v2.0";
        Assert.NotNull((await Exchange(strategy, TestIdTokens.Mint(claims, _signing))).IdTokenClaims);

        claims["iss"] = $"{Issuer}/{Guid.NewGuid():D}/v2.0";
        await Refused(strategy, TestIdTokens.Mint(claims, _signing), "issuer");
    }

    [Fact]
    public async Task A_refresh_stops_waiting_for_a_hanging_key_set_in_time_to_hand_back_its_tokens()
    {
        // The provider actor gives the refresh 2 s; the key endpoint never answers and no keys are held yet (the first
        // refresh after the app started). Waiting for it to the end would lose the tokens as a timeout.
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(2)));
        var strategy = Strategy();
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), TimeSpan.FromSeconds(10));
        _jwksHangs = true;
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _signing);

        registry.Tell(new RefreshTokens(strategy.Name, "r-1", RefreshToken, null));

        var answer = ExpectMsg<CodeExchanged>(TimeSpan.FromSeconds(10));
        Assert.Equal(("SECRET-ACCESS-1", null), (answer.Tokens.AccessToken, answer.Tokens.IdToken));
    }

    [Fact]
    public async Task A_refresh_waits_for_a_hanging_key_set_once_not_once_per_look_at_it()
    {
        // Keys held but due for their periodic fetch, the endpoint hangs, and the refresh's ID token is signed with a key
        // the held set lacks: the wait for the periodic fetch and the wait for the refetch share one patience.
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(2)));
        var strategy = Strategy();
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), TimeSpan.FromSeconds(10));
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing)); // keys held
        _clock.Now = Start + JwksCache.MaxAge + TimeSpan.FromHours(1);
        _jwksHangs = true;
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _keys.EcKey("k2"));

        registry.Tell(new RefreshTokens(strategy.Name, "r-1", RefreshToken, null));

        var answer = ExpectMsg<CodeExchanged>(TimeSpan.FromSeconds(10));
        Assert.Equal(("SECRET-ACCESS-1", null), (answer.Tokens.AccessToken, answer.Tokens.IdToken));
    }

    [Fact]
    public async Task A_refresh_signed_with_a_new_key_the_key_endpoint_cannot_serve_keeps_its_tokens_and_a_login_does_not()
    {
        var strategy = Strategy();
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing)); // keys held
        var rotated = _keys.EcKey("k2");
        _clock.Now = Start + JwksCache.MinRefetchInterval + TimeSpan.FromMinutes(1);
        _jwksDown = true;

        _idToken = TestIdTokens.Mint(Claims(nonce: null), rotated);
        var refreshed = await strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None);
        Assert.Equal(("SECRET-ACCESS-1", null), (refreshed.AccessToken, refreshed.IdTokenClaims));

        await Refused(strategy, TestIdTokens.Mint(Claims(), rotated), "keys");
    }

    [Fact]
    public async Task Googles_documented_bare_issuer_is_accepted_as_its_issuer_and_nothing_else_is()
    {
        // Google's preset, with its key set served here: Google documents both spellings of its ID tokens' iss.
        var google = ProviderPresets.GoogleOptions(ClientId);
        var strategy = Strategy(o =>
        {
            o.Issuer = google.Issuer;
            o.IdTokenIssuerAliases = google.IdTokenIssuerAliases;
        });
        string Minted(string issuer, string? nonce = Nonce)
        {
            var claims = Claims(nonce);
            claims["iss"] = issuer;
            return TestIdTokens.Mint(claims, _signing);
        }

        var bare = await Exchange(strategy, Minted("accounts.google.com"));
        var full = await Exchange(strategy, Minted(ProviderPresets.GoogleIssuer));

        // Both read as the one issuer, so a refresh in the other spelling is the same user's (section 12.2).
        Assert.Equal((ProviderPresets.GoogleIssuer, ProviderPresets.GoogleIssuer), (bare.IdTokenClaims?.Issuer, full.IdTokenClaims?.Issuer));
        _idToken = Minted("accounts.google.com", nonce: null);
        var refreshed = await O8Actors.Providers.IdTokens.RefreshedIdToken.SameUser(
            strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None), full.IdTokenClaims, "google");
        Assert.Equal("user-42", refreshed.IdTokenClaims?.Subject);

        await Refused(strategy, Minted("accounts.google.com.attacker.example"), "issuer");
        await Refused(strategy, Minted("http://accounts.google.com"), "issuer");
        // Without the alias (any other provider), the bare spelling is another issuer.
        await Refused(Strategy(o => o.Issuer = google.Issuer), Minted("accounts.google.com"), "issuer");
    }

    [Fact]
    public void Issuer_aliases_must_be_named_and_cannot_go_with_a_templated_issuer()
    {
        Assert.Contains("IdTokenIssuerAliases", Assert.Throws<ArgumentException>(() => Strategy(o => o.IdTokenIssuerAliases = [" "])).Message,
            StringComparison.Ordinal);
        Assert.Contains("templated", Assert.Throws<ArgumentException>(() => Strategy(o =>
        {
            o.IdTokenIssuer = Issuer + "/{tenantid}/v2.0";
            o.IdTokenIssuerAliases = ["bare"];
        })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refresh_validates_the_id_token_but_not_its_nonce()
    {
        var strategy = Strategy();
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _signing);
        var refreshed = await strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None);
        Assert.Equal("user-42", refreshed.IdTokenClaims?.Subject);

        var claims = Claims(nonce: null);
        claims["aud"] = "some-other-client";
        _idToken = TestIdTokens.Mint(claims, _signing);
        await Assert.ThrowsAsync<IdTokenValidationException>(() => strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None));
    }

    [Fact]
    public async Task A_refresh_whose_key_set_cannot_be_fetched_keeps_its_new_tokens_without_the_unchecked_ID_token()
    {
        var strategy = Strategy();
        _jwksDown = true;
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _signing);

        // The refresh token is spent at the provider by now: refusing the answer would sign the user out over a failure
        // of the key endpoint. The new ID token, neither good nor bad, is left out (the account keeps the one it holds).
        var refreshed = await strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None);
        Assert.Equal(("SECRET-ACCESS-1", null, null), (refreshed.AccessToken, refreshed.IdToken, refreshed.IdTokenClaims));

        // A login in the same state still fails: its ID token is what says who signed in.
        await Refused(strategy, TestIdTokens.Mint(Claims(), _signing), "keys");

        // With the keys back, a refresh's ID token is checked again, and a bad one refused.
        _jwksDown = false;
        Assert.Equal("user-42", (await strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None)).IdTokenClaims?.Subject);
        // (Forged under the published key's id: a key id the set lacks, this soon after a fetch, could not be looked up
        // again, and a refresh keeps its tokens without such an ID token.)
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _keys.EcKey("k1", publish: false));
        var forged = await Assert.ThrowsAsync<IdTokenValidationException>(() => strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None));
        Assert.Contains("(signature)", forged.Message, StringComparison.Ordinal);
    }

    /// <summary>A provider named <paramref name="name"/> with a revocation endpoint, registered with a provider registry of its own.</summary>
    private async Task<(IActorRef Registry, GenericOAuthStrategy Strategy)> RegisteredWithRevocationAsync(string name)
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        var strategy = Strategy(o =>
        {
            o.Name = name;
            o.RevocationEndpoint = _server.Url("/revoke");
        });
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), TimeSpan.FromSeconds(10));
        return (registry, strategy);
    }

    [Fact]
    public async Task The_provider_actor_answers_a_refresh_whose_key_set_is_down_with_its_tokens_and_counts_the_unchecked_ID_token()
    {
        using var counted = new CounterRecorder("o8.id_tokens.unchecked");
        var (registry, strategy) = await RegisteredWithRevocationAsync("keys-down");
        _jwksDown = true;
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _signing);
        var account = new IdTokenClaims("user-42", Issuer, [ClientId], Start, Start, null, null, []);

        registry.Tell(new RefreshTokens(strategy.Name, "r-1", RefreshToken, null) { PreviousIdToken = account });

        var answer = ExpectMsg<CodeExchanged>(TimeSpan.FromSeconds(10));
        Assert.Equal(("SECRET-ACCESS-1", null), (answer.Tokens.AccessToken, answer.Tokens.IdTokenClaims));
        Assert.Contains("1 provider=keys-down reason=keys", counted.Measurements);
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/revoke");
    }

    /// <summary>
    /// A machine whose clock is off by more than the skew (a laptop after sleep, a WSL VM) finds a genuine refreshed ID
    /// token issued in the future, or expired. The refresh was refused and what it brought revoked: the rotated refresh
    /// token (the sent one spent), or at Google the access token, whose revocation ends the grant; the user had to sign
    /// in again once the clock was right. The tokens are kept without that ID token now, as when the keys are down; a
    /// login in the same state is still refused, its ID token being what says who signed in.
    /// </summary>
    [Theory]
    [InlineData(-10, "issued-at")]
    [InlineData(20, "expired")]
    public async Task A_refresh_whose_ID_token_fails_only_against_this_machines_clock_keeps_its_tokens_and_revokes_nothing(int clockOffMinutes, string check)
    {
        using var counted = new CounterRecorder("o8.id_tokens.unchecked");
        var (registry, strategy) = await RegisteredWithRevocationAsync("clock-off");
        var loginClaims = Claims();
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _signing);
        var account = new IdTokenClaims("user-42", Issuer, [ClientId], Start, Start, null, null, []);
        _clock.Now = Start.AddMinutes(clockOffMinutes);

        registry.Tell(new RefreshTokens(strategy.Name, "r-1", RefreshToken, null) { PreviousIdToken = account });

        var answer = ExpectMsg<CodeExchanged>(TimeSpan.FromSeconds(10));
        Assert.Equal(("SECRET-ACCESS-1", null, null), (answer.Tokens.AccessToken, answer.Tokens.IdToken, answer.Tokens.IdTokenClaims));
        Assert.Contains("1 provider=clock-off reason=clock", counted.Measurements);
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/revoke");
        await Refused(strategy, TestIdTokens.Mint(loginClaims, _signing), check);
        // Only the clock: a refreshed ID token refused for anything else is refused as before.
        var otherClient = Claims(nonce: null);
        otherClient["aud"] = "some-other-client";
        _idToken = TestIdTokens.Mint(otherClient, _signing);
        await Assert.ThrowsAsync<IdTokenValidationException>(() => strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None));
    }

    /// <summary>
    /// The first refresh after a provider rotated its signing key refetched the key set; while a CDN still served the old
    /// one, every refresh in the next five minutes was refused for a key id the set could not be asked about again, and
    /// with it the refresh token it had spent.
    /// </summary>
    [Fact]
    public async Task A_refresh_signed_with_a_key_id_the_rate_limit_keeps_from_being_looked_up_keeps_its_tokens()
    {
        var strategy = Strategy();
        await Exchange(strategy, TestIdTokens.Mint(Claims(), _signing));
        _clock.Now = Start.AddMinutes(6);
        await Refused(strategy, TestIdTokens.Mint(Claims(), _keys.EcKey("k9", publish: false)), "signature");
        Assert.Equal(2, JwksFetches);

        _idToken = TestIdTokens.Mint(Claims(nonce: null), _keys.EcKey("k10", publish: false));
        var refreshed = await strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None);

        Assert.Equal(("SECRET-ACCESS-1", null, null), (refreshed.AccessToken, refreshed.IdToken, refreshed.IdTokenClaims));
        Assert.Equal(2, JwksFetches);
        // A login in the same state is still refused: its ID token is what says who signed in.
        var login = await Refused(strategy, TestIdTokens.Mint(Claims(), _keys.EcKey("k11", publish: false)), "signature");
        Assert.Contains("not refetched", login.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A provider that does not rotate refresh tokens answers a refresh without one, and the answer keeps the one sent.
    /// A refresh refused for its ID token used to revoke that one too: the account's own, live grant, so the user was
    /// signed out everywhere.
    /// </summary>
    [Fact]
    public async Task A_refused_refresh_revokes_its_new_access_token_but_never_the_refresh_token_it_sent()
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        var strategy = Strategy(o => o.RevocationEndpoint = _server.Url("/revoke"));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), TimeSpan.FromSeconds(10));
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _signing); // sub user-42
        var anotherUser = new IdTokenClaims("user-7", Issuer, [ClientId], Start, Start, null, null, []);

        registry.Tell(new RefreshTokens(strategy.Name, "r-1", RefreshToken, null) { PreviousIdToken = anotherUser });

        Assert.Equal(LoginFailure.IdTokenInvalid, ExpectMsg<CodeExchangeFailed>(TimeSpan.FromSeconds(10)).Failure);
        string[] Revoked() => [.. _server.Requests.Where(r => r.Path == "/revoke").Select(r => r.Form.GetValueOrDefault("token") ?? "")];
        await AwaitAssertAsync(() => Assert.Contains("SECRET-ACCESS-1", Revoked()), TimeSpan.FromSeconds(10));
        Assert.Equal(["SECRET-ACCESS-1"], Revoked());
    }

    [Fact]
    public async Task The_provider_actor_refuses_a_refreshed_id_token_for_another_user_or_issuer()
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        var strategy = Strategy();
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), TimeSpan.FromSeconds(10));
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _signing); // sub user-42
        IdTokenClaims Account(string subject, string issuer) => new(subject, issuer, [ClientId], Start, Start, null, null, []);

        registry.Tell(new RefreshTokens(strategy.Name, "r-1", RefreshToken, null) { PreviousIdToken = Account("user-42", Issuer) });
        Assert.Equal("user-42", ExpectMsg<CodeExchanged>(TimeSpan.FromSeconds(10)).Tokens.IdTokenClaims?.Subject);

        registry.Tell(new RefreshTokens(strategy.Name, "r-2", RefreshToken, null) { PreviousIdToken = Account("user-7", Issuer) });
        var otherUser = ExpectMsg<CodeExchangeFailed>(TimeSpan.FromSeconds(10));
        Assert.Equal((LoginFailure.IdTokenInvalid, "r-2"), (otherUser.Failure, otherUser.LoginId));
        Assert.Contains("(sub)", otherUser.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("user-", otherUser.Reason, StringComparison.Ordinal);

        registry.Tell(new RefreshTokens(strategy.Name, "r-3", RefreshToken, null) { PreviousIdToken = Account("user-42", "https://other.example") });
        var otherIssuer = ExpectMsg<CodeExchangeFailed>(TimeSpan.FromSeconds(10));
        Assert.Equal(LoginFailure.IdTokenInvalid, otherIssuer.Failure);
        Assert.Contains("(iss)", otherIssuer.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_nonce_goes_on_the_authorize_url_only_of_a_provider_that_validates_id_tokens()
    {
        var context = AuthorizeContext() with { Nonce = Nonce };

        Assert.Equal(Nonce, Query(Strategy().BuildAuthorizeUrl(context))["nonce"]);
        Assert.False(Query(Strategy(o => o.JwksUri = null).BuildAuthorizeUrl(context)).ContainsKey("nonce"));
        var extra = context with { ExtraParameters = new Dictionary<string, string> { ["nonce"] = "fixed" } };
        Assert.Throws<ArgumentException>(() => Strategy().BuildAuthorizeUrl(extra));
        Assert.Contains("nonce", Assert.Throws<ArgumentException>(() => Strategy().BuildAuthorizeUrl(extra)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_openid_presets_send_a_nonce_and_validate_id_tokens_and_the_plain_oauth_ones_do_not()
    {
        var context = AuthorizeContext() with { Nonce = Nonce };

        var google = ProviderPresets.Google("gid", "g-secret");
        Assert.True(google.ValidatesIdTokens);
        Assert.Equal(new Uri(ProviderPresets.GoogleJwksUri), google.Options.JwksUri);
        Assert.Equal(Nonce, Query(google.BuildAuthorizeUrl(context))["nonce"]);

        var common = ProviderPresets.Microsoft("common", "mid");
        Assert.True(common.ValidatesIdTokens);
        Assert.Equal("https://login.microsoftonline.com/common/discovery/v2.0/keys", common.Options.JwksUri?.AbsoluteUri);
        Assert.Equal("https://login.microsoftonline.com/{tenantid}/v2.0", common.Options.IdTokenIssuer);
        Assert.Equal(Nonce, Query(common.BuildAuthorizeUrl(context))["nonce"]);
        var tenant = Guid.NewGuid();
        var single = ProviderPresets.Microsoft(tenant.ToString(), "mid");
        Assert.Null(single.Options.IdTokenIssuer);
        Assert.Equal($"https://login.microsoftonline.com/{tenant:D}/v2.0", single.Options.Issuer);

        foreach (var plain in new[] { ProviderPresets.GitHub("ghid", "secret"), ProviderPresets.Discord("did") })
        {
            Assert.False(plain.ValidatesIdTokens);
            Assert.False(Query(plain.BuildAuthorizeUrl(context)).ContainsKey("nonce"));
        }
    }

    [Fact]
    public async Task A_discovered_provider_with_a_jwks_uri_sends_a_nonce_and_validates_against_the_discovered_keys()
    {
        var strategy = new OidcDiscoveryStrategy(new OidcDiscoveryOptions { Name = "idp", Issuer = Issuer, ClientId = ClientId, ClientSecret = ClientSecret }, _clock);
        await strategy.ResolveAsync(_http, CancellationToken.None);
        // Duende's discovery client reads the key set along with the metadata; the validator keeps its own copy.
        var afterDiscovery = JwksFetches;
        Assert.Equal(Nonce, Query(strategy.BuildAuthorizeUrl(AuthorizeContext() with { Nonce = Nonce }))["nonce"]);

        _idToken = TestIdTokens.Mint(Claims(), _signing);
        var tokens = await strategy.ExchangeCodeAsync(new CodeExchangeContext(Code, Verifier, RedirectUri, Nonce), _http, CancellationToken.None);
        Assert.Equal("user-42", tokens.IdTokenClaims?.Subject);

        _idToken = TestIdTokens.Mint(Claims(), _keys.EcKey("k1", publish: false));
        var forged = await Assert.ThrowsAsync<IdTokenValidationException>(() =>
            strategy.ExchangeCodeAsync(new CodeExchangeContext(Code, Verifier, RedirectUri, Nonce), _http, CancellationToken.None));
        Assert.Contains("(signature)", forged.Message, StringComparison.Ordinal);
        Assert.Equal(afterDiscovery + 1, JwksFetches);
    }

    [Fact]
    public async Task A_discovered_provider_takes_the_issuer_aliases_it_is_given_and_otherwise_those_known_for_its_issuer()
    {
        var strategy = new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = "idp", Issuer = Issuer, ClientId = ClientId, ClientSecret = ClientSecret, IdTokenIssuerAliases = ["idp.example"],
        }, _clock);
        await strategy.ResolveAsync(_http, CancellationToken.None);
        var claims = Claims();
        claims["iss"] = "idp.example";
        _idToken = TestIdTokens.Mint(claims, _signing);

        var tokens = await strategy.ExchangeCodeAsync(new CodeExchangeContext(Code, Verifier, RedirectUri, Nonce), _http, CancellationToken.None);

        Assert.Equal(Issuer, tokens.IdTokenClaims?.Issuer);
        // Discovering Google's issuer without aliases of one's own gets Google's documented spelling, as its preset does.
        Assert.Equal(["accounts.google.com"], ProviderPresets.KnownIssuerAliases(ProviderPresets.GoogleIssuer));
        Assert.Equal(ProviderPresets.GoogleOptions("g").IdTokenIssuerAliases, ProviderPresets.KnownIssuerAliases(ProviderPresets.GoogleIssuer));
        Assert.Empty(ProviderPresets.KnownIssuerAliases(Issuer));
    }

    [Fact]
    public async Task Without_a_key_set_the_id_token_is_passed_through_unvalidated()
    {
        var tokens = await Exchange(Strategy(o => o.JwksUri = null), "not-a-jwt");
        Assert.Equal("not-a-jwt", tokens.IdToken);
        Assert.Null(tokens.IdTokenClaims);
        Assert.Equal(0, JwksFetches);
    }

    [Fact]
    public async Task The_provider_actor_ends_the_exchange_as_IdTokenInvalid_without_tokens_and_revokes_those_the_server_issued()
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        var strategy = Strategy(o => o.RevocationEndpoint = _server.Url("/revoke"));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), TimeSpan.FromSeconds(10));
        _idToken = TestIdTokens.Mint(Claims(nonce: "nonce-of-another-login"), _signing);

        registry.Tell(new ExchangeCode(strategy.Name, "login-1", Code, Verifier, RedirectUri, default, Nonce));

        var failed = ExpectMsg<CodeExchangeFailed>(TimeSpan.FromSeconds(10));
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("(nonce)", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_idToken.Split('.')[1], failed.Reason, StringComparison.Ordinal);
        // The access token the server issued with the refused ID token is live there, and nobody may use it: revoked.
        AwaitAssert(() => Assert.Contains(_server.Requests, r => r.Path == "/revoke" && r.Form.GetValueOrDefault("token") == "SECRET-ACCESS-1"),
            TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_login_whose_key_set_hangs_ends_as_an_unchecked_ID_token_in_time_and_revokes_the_tokens_the_server_issued()
    {
        // The first login after the app started (no keys held), the key endpoint never answers, the token request has 2 s.
        // Waiting for the keys to the end would report the token endpoint as silent and leave the issued grant live.
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(2)));
        var strategy = Strategy(o => o.RevocationEndpoint = _server.Url("/revoke"));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), TimeSpan.FromSeconds(10));
        _jwksHangs = true;
        _idToken = TestIdTokens.Mint(Claims(), _signing);

        registry.Tell(new ExchangeCode(strategy.Name, "login-1", Code, Verifier, RedirectUri, default, Nonce));

        var failed = ExpectMsg<CodeExchangeFailed>(TimeSpan.FromSeconds(10));
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("(keys)", failed.Reason, StringComparison.Ordinal);
        AwaitAssert(() => Assert.Contains(_server.Requests, r => r.Path == "/revoke" && r.Form.GetValueOrDefault("token") == "SECRET-ACCESS-1"),
            TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_device_poll_whose_key_set_hangs_ends_the_login_rather_than_polling_again_with_the_spent_device_code()
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(2)));
        var strategy = Strategy(o =>
        {
            o.RevocationEndpoint = _server.Url("/revoke");
            o.DeviceAuthorizationEndpoint = _server.Url("/device");
        });
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), TimeSpan.FromSeconds(10));
        _jwksHangs = true;
        _idToken = TestIdTokens.Mint(Claims(nonce: null), _signing);

        registry.Tell(new PollDeviceToken(strategy.Name, "login-1", "DEVICE-CODE-1"));

        // The poll brought tokens, so the device code is spent: a failure the login would poll again after (a timeout)
        // is wrong; one that ends it, with the issued tokens revoked, is right.
        var failed = ExpectMsg<CodeExchangeFailed>(TimeSpan.FromSeconds(10));
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.False(O8Actors.Flows.FlowActor.IsTransient(failed));
        AwaitAssert(() => Assert.Contains(_server.Requests, r => r.Path == "/revoke" && r.Form.GetValueOrDefault("token") == "SECRET-ACCESS-1"),
            TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_OpenID_Connect_login_answered_without_an_ID_token_is_refused_and_its_tokens_handed_back_for_revocation(bool openIdByDefault)
    {
        // OpenID Connect Core section 3.1.3.3: the ID token is required. Without it the nonce is never checked (the
        // defence against an injected code when PKCE is off) and nothing says who signed in.
        var strategy = Strategy(o => { if (openIdByDefault) o.DefaultScopes = ["openid", "profile"]; });
        _idToken = "";

        var error = await Assert.ThrowsAsync<IdTokenValidationException>(() => strategy.ExchangeCodeAsync(
            new CodeExchangeContext(Code, Verifier, RedirectUri, Nonce) { Scopes = openIdByDefault ? [] : ["openid", "email"] },
            _http, CancellationToken.None));

        Assert.Contains("without an ID token", error.Message, StringComparison.Ordinal);
        Assert.Equal("SECRET-ACCESS-1", error.Issued?.AccessToken);
        Assert.DoesNotContain("SECRET-ACCESS-1", error.Message, StringComparison.Ordinal);
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task A_login_that_asked_for_no_openid_scope_may_come_back_without_an_ID_token()
    {
        _idToken = "";

        var tokens = await Strategy().ExchangeCodeAsync(
            new CodeExchangeContext(Code, Verifier, RedirectUri, Nonce) { Scopes = ["api.read"] }, _http, CancellationToken.None);

        Assert.Equal("SECRET-ACCESS-1", tokens.AccessToken);
        Assert.Null(tokens.IdTokenClaims);
    }

    [Fact]
    public void A_jwks_uri_needs_an_issuer_and_a_sane_clock_skew()
    {
        Assert.Throws<ArgumentException>(() => Strategy(o => o.Issuer = null));
        Assert.Throws<ArgumentException>(() => Strategy(o => o.IdTokenClockSkew = TimeSpan.FromMinutes(-1)));
        Assert.Throws<ArgumentException>(() => Strategy(o => o.JwksUri = new Uri("http://keys.example.test/jwks")));
    }
}
