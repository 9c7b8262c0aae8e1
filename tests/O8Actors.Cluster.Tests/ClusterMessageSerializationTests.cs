using System.Security.Claims;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using O8Actors.Binding;
using O8Actors.Callback;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Every message that crosses nodes survives Akka.Remote's default serializer (JSON) in an actor system with the
/// cluster provider, as it would on the wire: each is serialized, deserialized and compared field by field.
/// </summary>
public sealed class ClusterMessageSerializationTests : IAsyncLifetime
{
    private ActorSystem _system = null!;

    public ValueTask InitializeAsync()
    {
        _system = ActorSystem.Create("o8-serialization", ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            """));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _system.Terminate();

    private T RoundTrip<T>(T message) where T : notnull
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        // The default for these messages: no binding of ours, so the remote's JSON serializer carries them.
        Assert.IsType<NewtonSoftJsonSerializer>(serializer);
        var bytes = serializer.ToBinary(message);
        var manifest = Serialization.ManifestFor(serializer, message);
        return Assert.IsType<T>(_system.Serialization.Deserialize(bytes, serializer.Identifier, manifest));
    }

    [Fact]
    public void BeginLogin_keeps_its_request_binding_and_reply_address()
    {
        var replyTo = _system.ActorOf(Props.Empty, "gateway");
        var request = new AuthorizationRequest(["openid", "email"], TimeSpan.FromMinutes(3),
            new Dictionary<string, string> { ["login_hint"] = "alice" }, "user-7") { MaxAge = TimeSpan.Zero, AcrValues = ["phr", "mfa"] };
        var binding = new BrowserBindingHash([1, 2, 3, 4], [5, 6, 7]);
        // As the gateway makes it, from a caller's request built with collection expressions.
        var message = BeginLogin.For(LoginEntityIds.Mint(), "login-1", "sandbox", request, binding, replyTo);

        var back = RoundTrip(message);

        Assert.Equal(message.EntityId, back.EntityId);
        Assert.Equal("login-1", back.LoginId);
        Assert.Equal("sandbox", back.Provider);
        Assert.Equal(["openid", "email"], back.Request.ScopeList);
        Assert.Equal(TimeSpan.FromMinutes(3), back.Request.Timeout);
        Assert.Equal("alice", back.Request.Parameters["login_hint"]);
        Assert.Equal("user-7", back.Request.Partition);
        // A step-up's requirements reach the node that runs the login.
        Assert.Equal(TimeSpan.Zero, back.Request.MaxAge);
        Assert.Equal(["phr", "mfa"], back.Request.AcrValues!);
        Assert.Equal(binding.ProtectedKey, back.Binding.ProtectedKey);
        Assert.Equal(binding.Mac, back.Binding.Mac);
        Assert.Equal(replyTo, back.ReplyTo);
    }

    [Fact]
    public void A_logout_tokens_check_against_its_providers_guard_and_the_answer_round_trip()
    {
        var keepUntil = new DateTimeOffset(2026, 12, 2, 12, 30, 0, TimeSpan.Zero);
        var lease = TimeSpan.FromSeconds(220);
        Assert.Equal(new O8Actors.Logout.AcceptLogoutToken("sandbox", "jti-1", keepUntil, "attempt-1", lease),
            RoundTrip(new O8Actors.Logout.AcceptLogoutToken("sandbox", "jti-1", keepUntil, "attempt-1", lease)));
        Assert.All(Enum.GetValues<O8Actors.Logout.LogoutTokenCheck>(),
            check => Assert.Equal(check, RoundTrip(new O8Actors.Logout.LogoutTokenAcceptance(check)).Check));
        Assert.Equal(new O8Actors.Logout.ForgetLogoutToken("sandbox", "jti-1", "attempt-1"),
            RoundTrip(new O8Actors.Logout.ForgetLogoutToken("sandbox", "jti-1", "attempt-1")));
        Assert.Equal(new O8Actors.Logout.RenewLogoutToken("sandbox", "jti-1", "attempt-1", lease),
            RoundTrip(new O8Actors.Logout.RenewLogoutToken("sandbox", "jti-1", "attempt-1", lease)));
        Assert.Equal(new O8Actors.Logout.CompleteLogoutToken("sandbox", "jti-1"), RoundTrip(new O8Actors.Logout.CompleteLogoutToken("sandbox", "jti-1")));
        Assert.Equal(new O8Actors.Logout.LogoutTokenCompleted("jti-1"), RoundTrip(new O8Actors.Logout.LogoutTokenCompleted("jti-1")));
    }

    [Fact]
    public void What_a_moving_logout_token_guard_hands_over_round_trips()
    {
        var at = new DateTimeOffset(2026, 12, 2, 12, 30, 0, TimeSpan.Zero);
        var holds = new[]
        {
            new O8Actors.Logout.LogoutTokenHold("jti-1", at, true, "attempt-1", at.AddMinutes(-50)),
            new O8Actors.Logout.LogoutTokenHold("jti-2", DateTimeOffset.MaxValue, false, "attempt-2", DateTimeOffset.MaxValue),
        };

        var back = RoundTrip(new LogoutTokensHandedOver("sandbox", holds));

        Assert.Equal("sandbox", back.Provider);
        Assert.Equal(holds, back.Holds);
        Assert.Empty(RoundTrip(new LogoutTokensHandedOver("sandbox", [])).Holds);

        // As the cluster replicates it: in Distributed Data's register, whose serializer carries the value through ours.
        var node = Akka.Cluster.Cluster.Get(_system).SelfUniqueAddress;
        var register = new Akka.DistributedData.LWWRegister<LogoutTokensHandedOver>(node, new LogoutTokensHandedOver("sandbox", holds));
        _ = Akka.DistributedData.DistributedData.Get(_system); // its serializers' bindings come with the extension
        var serializer = _system.Serialization.FindSerializerFor(register);
        var replicated = Assert.IsType<Akka.DistributedData.LWWRegister<LogoutTokensHandedOver>>(
            _system.Serialization.Deserialize(serializer.ToBinary(register), serializer.Identifier, Serialization.ManifestFor(serializer, register)));
        Assert.Equal(holds, replicated.Value.Holds);
    }

    [Fact]
    public void A_back_channel_logouts_conditional_sign_out_and_its_answers_round_trip()
    {
        var account = new OAuthAccount("sandbox", "erin");
        var back = RoundTrip(new O8Actors.Accounts.SignOut(account, SignOutOptions.Local, new O8Actors.Accounts.EndedSession("sid-1", AlsoWithoutSessionId: true)));

        Assert.Equal(account, back.Account);
        Assert.Equal(new O8Actors.Accounts.EndedSession("sid-1", true), back.Session);
        Assert.Equal(SignOutOptions.Local, back.Options);
        Assert.Null(RoundTrip(new O8Actors.Accounts.SignOut(account, SignOutOptions.Local)).Session);
        Assert.False(back.CountedByCaller);
        // A server-mode sign-out's first half: the node that began it counts it, the entity must not.
        Assert.True(RoundTrip(new O8Actors.Accounts.SignOut(account, SignOutOptions.Local, CountedByCaller: true)).CountedByCaller);
        Assert.Equal(account, RoundTrip(new O8Actors.Accounts.SignOutSkipped(account)).Account);
        Assert.Equal(new SignOutResult(account, RevocationOutcome.Revoked), RoundTrip(new SignOutResult(account, RevocationOutcome.Revoked)));
    }

    [Fact]
    public void BeginLogin_with_the_default_request_round_trips()
    {
        var back = RoundTrip(new BeginLogin(LoginEntityIds.Mint(), "login-2", "sandbox", AuthorizationRequest.Default,
            new BrowserBindingHash([9], [8]), _system.DeadLetters));
        Assert.Empty(back.Request.ScopeList);
        Assert.Null(back.Request.Timeout);
        Assert.Empty(back.Request.Parameters);
    }

    [Fact]
    public void RoutedCallback_keeps_every_parameter_and_the_browser_secrets()
    {
        var received = new CallbackReceived("id.secret", "code-1", "access_denied", "no thanks", "https://issuer", "/oauth/callback/sandbox")
        {
            BrowserSecrets = new Dictionary<string, string> { ["login-1"] = "browser-secret" }.AsReadOnly(),
        };
        var message = RoutedCallback.For(LoginEntityIds.Mint(), received);

        var back = RoundTrip(message);

        Assert.Equal(message with { BrowserSecrets = null }, back with { BrowserSecrets = null });
        Assert.Equal("browser-secret", Assert.Single(back.BrowserSecrets!).Value);
    }

    [Fact]
    public void RoutedCallback_without_optional_parts_round_trips() =>
        Assert.Equal(new RoutedCallback("e", "s", null, null, null, null, null, null), RoundTrip(new RoutedCallback("e", "s", null, null, null, null, null, null)));

    [Fact]
    public void CancelLogin_LoginTaken_and_LoginUrlReady_round_trip()
    {
        Assert.Equal(new CancelLogin("e", "login-1"), RoundTrip(new CancelLogin("e", "login-1")));
        Assert.Equal(new LoginTaken("login-1"), RoundTrip(new LoginTaken("login-1")));
        var ready = new LoginUrlReady("login-1", new Uri("https://sandbox.example/authorize?state=a.b&code_challenge=x"));
        Assert.Equal(ready, RoundTrip(ready));
    }

    [Fact]
    public void The_callback_page_returned_to_the_asking_node_round_trips()
    {
        var page = ClusterPages.ExpiredOrUnknown with { LoginId = "login-1" };
        Assert.Equal(page, RoundTrip(page));
        Assert.Equal(CallbackPages.OtherBrowser, RoundTrip(CallbackPages.OtherBrowser));
    }

    [Fact]
    public void A_success_keeps_its_tokens_and_its_validated_id_token_claims()
    {
        var claims = new IdTokenClaims("alice", "https://issuer", ["client"], DateTimeOffset.UnixEpoch.AddDays(1), DateTimeOffset.UnixEpoch,
            "alice@example.com", "Alice", [new Claim("sub", "alice"), new Claim("email_verified", "true", ClaimValueTypes.Boolean, "https://issuer")]);
        var tokens = new TokenSet("access", "Bearer", DateTimeOffset.UnixEpoch.AddHours(1), "refresh", "openid email", "id.token.jwt", "{}")
        {
            IdTokenClaims = claims,
        };

        var back = RoundTrip(new LoginEnded("login-1", WireOutcome.From(new LoginSucceeded("login-1", tokens)))).Outcome.ToOutcome();

        var success = Assert.IsType<LoginSucceeded>(back);
        Assert.Equal(tokens with { IdTokenClaims = null }, success.Tokens with { IdTokenClaims = null });
        var got = success.Tokens.IdTokenClaims!;
        Assert.Equal(("alice", "https://issuer", "alice@example.com", "Alice"), (got.Subject, got.Issuer, got.Email, got.Name));
        Assert.Equal(["client"], got.Audiences);
        Assert.Equal(claims.ExpiresAt, got.ExpiresAt);
        Assert.Equal(claims.All.Select(c => (c.Type, c.Value, c.ValueType, c.Issuer)), got.All.Select(c => (c.Type, c.Value, c.ValueType, c.Issuer)));
    }

    [Fact]
    public void Claims_keep_their_order_types_value_types_and_issuers_the_common_ones_and_the_others()
    {
        const string issuer = "https://issuer";
        Claim[] all =
        [
            new("sub", "alice", ClaimValueTypes.String, issuer),
            new("groups", "g1", ClaimValueTypes.String, issuer),
            new("groups", "g2", ClaimValueTypes.String, issuer),
            new("email_verified", "true", ClaimValueTypes.Boolean, issuer),
            new("groups", "g3", ClaimValueTypes.String, "https://other-issuer"),
            new("groups", "", ClaimValueTypes.String, issuer),
            new("Groups", "g4", ClaimValueTypes.String, issuer),
            new("address", """{"country":"NZ","note":"\"quoted\"\n"}""", "JSON", issuer),
            new("exp", "1900000000", ClaimValueTypes.Integer64, "LOCAL AUTHORITY"),
            new("name", "Zoë 名前", ClaimValueTypes.String, issuer),
        ];
        var tokens = new TokenSet("access", "Bearer") { IdTokenClaims = new IdTokenClaims("alice", issuer, ["a", "b"], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, all) };

        var back = Assert.IsType<LoginSucceeded>(RoundTrip(new LoginEnded("l", WireOutcome.From(new LoginSucceeded("l", tokens)))).Outcome.ToOutcome());

        Assert.Equal(all.Select(c => (c.Type, c.Value, c.ValueType, c.Issuer)), back.Tokens.IdTokenClaims!.All.Select(c => (c.Type, c.Value, c.ValueType, c.Issuer)));
        Assert.Equal(["a", "b"], back.Tokens.IdTokenClaims.Audiences);
        // No claim, no value in what a log line shows.
        Assert.DoesNotContain("g1", WireOutcome.From(new LoginSucceeded("l", tokens)).Claims!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_ID_token_without_claims_round_trips()
    {
        var tokens = new TokenSet("access", "Bearer") { IdTokenClaims = new IdTokenClaims("s", "https://i", [], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, []) };

        var back = Assert.IsType<LoginSucceeded>(RoundTrip(new LoginEnded("l", WireOutcome.From(new LoginSucceeded("l", tokens)))).Outcome.ToOutcome());

        Assert.Empty(back.Tokens.IdTokenClaims!.All);
    }

    private static readonly Dictionary<string, WireClaimList> Malformed = new()
    {
        ["runs do not add up to the values"] = new(["groups"], [3], ["a", "b"], [], [], []),
        ["a run for no type"] = new(["groups"], [1, 1], ["a", "b"], [], [], []),
        ["an empty run"] = new(["sub", "groups"], [2, 0], ["a", "b"], [], [], []),
        ["an exception past the end"] = new(["groups"], [2], ["a", "b"], [2], ["JSON"], ["i"]),
        ["exceptions out of order"] = new(["groups"], [2], ["a", "b"], [1, 0], ["JSON", "JSON"], ["i", "i"]),
        ["an exception without its issuer"] = new(["groups"], [2], ["a", "b"], [0], ["JSON"], []),
        ["a missing value"] = new(["groups"], [2], ["a", null!], [], [], []),
    };

    public static TheoryData<string> MalformedClaims() => new(Malformed.Keys);

    [Theory]
    [MemberData(nameof(MalformedClaims))]
    public void Malformed_claims_from_another_node_end_that_login_as_an_internal_failure_instead_of_throwing(string malformed)
    {
        var claims = Malformed[malformed];
        var success = new LoginSucceeded("l", new TokenSet("access", "Bearer"));
        var wire = new WireOutcome(success, new WireIdTokenClaims("s", "https://i", [], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, claims));

        var failed = Assert.IsType<LoginFailed>(RoundTrip(new LoginEnded("l", wire)).Outcome.ToOutcome());

        Assert.Equal(LoginFailure.Internal, failed.Failure);
        Assert.Contains("malformed", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("access", failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_DPoP_key_in_an_outcome_from_another_node_ends_that_login_as_an_internal_failure_instead_of_throwing()
    {
        var wire = new WireOutcome(new LoginSucceeded("l", new TokenSet("access", "DPoP")), null, "{\"kty\":\"RSA\"}");

        var failed = Assert.IsType<LoginFailed>(RoundTrip(new LoginEnded("l", wire)).Outcome.ToOutcome());

        Assert.Equal(LoginFailure.Internal, failed.Failure);
        Assert.Contains("malformed", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("RSA", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("access", failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_size_bound_is_never_below_what_the_serializer_writes_whatever_the_strings_hold()
    {
        // Every kind of character the bound prices: plain, escaped as two bytes, as \uXXXX, and non-ASCII UTF-8.
        var nasty = string.Concat(Enumerable.Repeat("a\"\\\n\u0001<>&'+é名😀", 2_000));
        var claims = Enumerable.Range(0, 2_000).Select(i => new Claim(i % 3 == 0 ? "groups" : nasty[..(i % 50)], nasty[..(i % 40)],
            i % 7 == 0 ? ClaimValueTypes.Boolean : ClaimValueTypes.String, i % 11 == 0 ? nasty[..20] : "https://i")).ToList();
        var tokens = new TokenSet(nasty, nasty, DateTimeOffset.UnixEpoch, nasty, nasty, nasty, nasty)
        {
            IdTokenClaims = new IdTokenClaims(nasty, "https://i", [nasty, nasty], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, nasty, nasty, claims),
        };
        foreach (var outcome in new LoginOutcome[]
                 {
                     new LoginSucceeded(nasty, tokens) { Account = new OAuthAccount(nasty, nasty) },
                     // Small tokens and a long non-ASCII account key, whose percent-encoded Id the serializer writes too.
                     new LoginSucceeded("l", new TokenSet("a", "Bearer")) { Account = new OAuthAccount("p", string.Concat(Enumerable.Repeat("😀", 5_000))) },
                     new LoginDenied(nasty, nasty, nasty),
                     new LoginFailed(nasty, LoginFailure.TokenExchange, nasty, nasty),
                     new LoginCancelled(nasty),
                 })
        {
            var message = new LoginEnded(outcome.LoginId, WireOutcome.From(outcome));
            var size = _system.Serialization.FindSerializerFor(message).ToBinary(message).Length;
            Assert.InRange(size, 1, OutcomeFrame.SizeBound(message));
        }
    }

    [Fact]
    public void The_size_bound_lists_every_string_the_outcomes_carry()
    {
        // WireOutcome.SizeBound names the outcomes' strings one by one (a bound from reflection would cost every login's
        // end): a string added to one of these types must be added there too, or an outcome near the frame is missed.
        static string[] Strings(Type type) => type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(string)).Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["AccessToken", "IdToken", "Raw", "RefreshToken", "Scope", "TokenType"], Strings(typeof(TokenSet)));
        Assert.Equal(["LoginId"], Strings(typeof(LoginSucceeded)));
        Assert.Equal(["Id", "Key", "Provider"], Strings(typeof(OAuthAccount)));
        Assert.Equal(["Error", "ErrorDescription", "LoginId"], Strings(typeof(LoginDenied)));
        Assert.Equal(["LoginId", "ProviderError", "Reason"], Strings(typeof(LoginFailed)));
        Assert.Equal(["LoginId"], Strings(typeof(LoginTimedOut)));
        Assert.Equal(["LoginId"], Strings(typeof(LoginCancelled)));
        Assert.Equal(["Email", "Issuer", "Name", "Subject"], Strings(typeof(WireIdTokenClaims)));
    }

    [Fact]
    public void The_largest_outcome_a_token_response_can_carry_fits_the_packages_remoting_frame()
    {
        var message = GroupsOutcome(20_000).Message;

        var size = _system.Serialization.FindSerializerFor(message).ToBinary(message).Length;

        // The frame also holds the envelope (recipient, sender, manifest): a few hundred bytes.
        var frame = ClusterDefaults.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 0;
        Assert.True(size + 4096 <= frame, $"a {size}-byte outcome in a {frame}-byte frame");
    }

    [Fact]
    public void A_claim_costs_the_wire_little_more_than_its_value()
    {
        var (message, raw, idToken, claims) = GroupsOutcome(20_000);

        var size = _system.Serialization.FindSerializerFor(message).ToBinary(message).Length;
        TestContext.Current.TestOutputHelper?.WriteLine($"20,000 groups: {size} bytes on the wire");

        // What the message cannot do without: the raw response (its quotes escaped), the ID token beside it, and each
        // claim's value in quotes with its comma (about 2.9 MB here). The rest (type names, the few claim types, the
        // other fields) is a few KB; per-claim objects repeating issuer and value type made it 7.6 MB.
        long essential = raw.Length + raw.Count(c => c == '"') + idToken.Length + claims.Sum(c => c.Value.Length + 3);
        Assert.InRange(size, essential, essential + 16 * 1024);
    }

    /// <summary>
    /// The heaviest outcome per byte of response: an ID token full of group ids (each becomes a claim), validated, so the
    /// outcome holds the raw response, the ID token and every claim; the response is just within O8Actors' 1 MiB limit.
    /// </summary>
    private static (LoginEnded Message, string Raw, string IdToken, IReadOnlyList<Claim> Claims) GroupsOutcome(int groups)
    {
        var issuer = $"https://login.microsoftonline.com/{Guid.NewGuid()}/v2.0";
        var payload = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["iss"] = issuer, ["sub"] = "alice", ["aud"] = "client", ["exp"] = 1_900_000_000, ["iat"] = 1_800_000_000,
            ["groups"] = Enumerable.Range(0, groups).Select(_ => Guid.NewGuid().ToString()).ToArray(),
        });
        var idToken = $"eyJhbGciOiJFUzI1NiJ9.{System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(payload))}.{new string('s', 86)}";
        var raw = $$"""{"access_token":"{{new string('a', 43)}}","token_type":"Bearer","expires_in":3600,"refresh_token":"{{new string('r', 43)}}","id_token":"{{idToken}}"}""";
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(raw), O8Actors.Runtime.O8Bootstrap.MaxResponseBytes * 9 / 10, O8Actors.Runtime.O8Bootstrap.MaxResponseBytes);
        using var json = System.Text.Json.JsonDocument.Parse(payload);
        var claims = json.RootElement.EnumerateObject()
            .SelectMany(p => p.Value.ValueKind == System.Text.Json.JsonValueKind.Array ? p.Value.EnumerateArray().Select(v => (p.Name, v)) : [(p.Name, p.Value)])
            .Select(c => new Claim(c.Name, c.Item2.ToString(), ClaimValueTypes.String, issuer)).ToList();
        var tokens = new TokenSet(new string('a', 43), "Bearer", DateTimeOffset.UnixEpoch, new string('r', 43), null, idToken, raw)
        {
            IdTokenClaims = new IdTokenClaims("alice", issuer, ["client"], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, claims),
        };
        return (new LoginEnded("login-1", WireOutcome.From(new LoginSucceeded("login-1", tokens))), raw, idToken, claims);
    }

    [Fact]
    public void A_DPoP_bound_success_keeps_its_key_across_nodes()
    {
        using var key = O8Actors.Dpop.DpopKey.Create();
        var tokens = new TokenSet("access", "DPoP", RefreshToken: "refresh") { DpopKey = key };

        var back = RoundTrip(new LoginEnded("login-1", WireOutcome.From(new LoginSucceeded("login-1", tokens)))).Outcome.ToOutcome();

        var success = Assert.IsType<LoginSucceeded>(back);
        Assert.Equal(key.Thumbprint, success.Tokens.DpopKey!.Thumbprint);
        Assert.Equal(key.ToJwk(), success.Tokens.DpopKey.ToJwk()); // the private part too: the beginning node signs with it
        Assert.Equal(("access", "DPoP", "refresh"), (success.Tokens.AccessToken, success.Tokens.TokenType, success.Tokens.RefreshToken));
    }

    public static TheoryData<LoginOutcome> OtherOutcomes() =>
    [
        new LoginSucceeded("l", new TokenSet("access", "Bearer")),
        // The account the login's node remembered: the beginning node hands it to its caller.
        new LoginSucceeded("l", new TokenSet("access", "Bearer")) { Account = new OAuthAccount("sandbox", "alice") },
        new LoginDenied("l", "access_denied", "The user said no"),
        new LoginTimedOut("l", TimeSpan.FromSeconds(90)),
        new LoginTimedOut("l", TimeSpan.FromMinutes(10)) { Waiting = TimedOutWaiting.DeviceApproval },
        new LoginTimedOut("l", TimeSpan.FromSeconds(30)) { Waiting = TimedOutWaiting.DeviceCode },
        new LoginTimedOut("l", TimeSpan.FromSeconds(30)) { Waiting = TimedOutWaiting.AuthorizeUrl },
        new LoginCancelled("l"),
        new LoginFailed("l", LoginFailure.BrowserMismatch, "another browser", "invalid_grant"),
    ];

    [Theory]
    [MemberData(nameof(OtherOutcomes))]
    public void Every_kind_of_outcome_round_trips(LoginOutcome outcome) =>
        Assert.Equal(outcome, RoundTrip(new LoginEnded("l", WireOutcome.From(outcome))).Outcome.ToOutcome());

    public static TheoryData<Exception> AccountFailures() =>
    [
        new InteractionRequiredException(new OAuthAccount("p", "alice/1"), InteractionReason.RefreshRefused, "sign in again"),
        new TokenExchangeException("refused", "invalid_request"),
        new AuthorizationFailedException(LoginFailure.ProviderUnavailable, "down"),
        new UnknownProviderException("nope"),
        new ProviderBusyException("busy"),
        new AuthorizationDeniedException("access_denied", "no"),
        new AuthorizationTimeoutException(TimeSpan.FromSeconds(90)),
        // A device login's timeout keeps its own message (the device code, not a redirect) on the caller's node.
        AuthorizationTimeoutException.For(new LoginTimedOut("l", TimeSpan.FromMinutes(10)) { Waiting = TimedOutWaiting.DeviceApproval }),
        AuthorizationTimeoutException.For(new LoginTimedOut("l", TimeSpan.FromSeconds(30)) { Waiting = TimedOutWaiting.AuthorizeUrl }),
        new OperationCanceledException("cancelled"),
        // An account's device login refused by the node's pending-login limit, its ID token refused, its issuer refused.
        new TooManyPendingLoginsException("o8.login.max-pending", 3) { LoginId = "login-1" },
        new IdTokenValidationException("The ID token was refused (signature).") { LoginId = "login-1" },
        new IssuerMismatchException("The callback's iss is not the provider's.") { LoginId = "login-1" },
        // A refresh whose new ID token was refused: O8Actors' own verdict as the inner exception.
        new TokenExchangeException("The refreshed ID token was refused.", null, new IdTokenValidationException("The refreshed ID token was refused.")),
        new TokenExchangeException("The token refresh timed out.", null, new TimeoutException("The token refresh timed out.")) { LoginId = "login-2" },
    ];

    [Theory]
    [MemberData(nameof(AccountFailures))]
    public void An_account_failure_reaches_the_callers_node_as_the_same_exception(Exception failure)
    {
        var back = RoundTrip(WireAccountFailure.From(failure)).ToException();

        Assert.IsType(failure.GetType(), back);
        Assert.Equal(failure.Message, back.Message);
        if (failure is InteractionRequiredException i)
            Assert.Equal((i.Account, i.Reason), (((InteractionRequiredException)back).Account, ((InteractionRequiredException)back).Reason));
        if (failure is AuthorizationFailedException a) Assert.Equal(a.Failure, ((AuthorizationFailedException)back).Failure);
        if (failure is TokenExchangeException t) Assert.Equal(t.ProviderError, ((TokenExchangeException)back).ProviderError);
        Assert.Equal(failure.InnerException?.GetType(), back.InnerException?.GetType());
        if (failure is OAuthFlowException flow) Assert.Equal(flow.LoginId, ((OAuthFlowException)back).LoginId);
        if (failure is TooManyPendingLoginsException p)
            Assert.Equal((p.Setting, p.Limit), (((TooManyPendingLoginsException)back).Setting, ((TooManyPendingLoginsException)back).Limit));
    }

    [Fact]
    public void Account_requests_and_answers_round_trip()
    {
        var account = new OAuthAccount("sandbox", "alice");
        // As the node's account gateway sends it, from a caller's request built with collection expressions.
        var request = AccountGateway.ForWire(new O8Actors.Accounts.GetAccessToken(account, ["openid"],
            new AccessTokenOptions(AllowInteraction: true, ForceRefresh: true, new AuthorizationRequest(["openid", "email"],
                ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "alice" }))));
        // With its ID token's subject: a UserInfo call on another node checks the answer against it.
        var token = new AccessToken(account, "access", "Bearer", DateTimeOffset.UnixEpoch.AddDays(1), "openid") { IdTokenSubject = "alice" };

        var gotRequest = RoundTrip(request);
        var gotToken = RoundTrip(token);

        Assert.Equal((account, true, true), (gotRequest.Account, gotRequest.Options.AllowInteraction, gotRequest.Options.ForceRefresh));
        Assert.Equal(["openid"], gotRequest.Scopes);
        Assert.Equal(["openid", "email"], gotRequest.Options.Login!.ScopeList);
        Assert.Equal("alice", gotRequest.Options.Login.Parameters["login_hint"]);
        Assert.Equal(token, gotToken);
        Assert.Equal("alice", gotToken.IdTokenSubject);
    }

    [Fact]
    public void A_cancellable_token_request_and_its_cancel_round_trip()
    {
        var account = new OAuthAccount("sandbox", "alice");
        using var caller = new CancellationTokenSource();
        var request = new CancellableTokenRequest(AccountGateway.ForWire(new O8Actors.Accounts.GetAccessToken(account, ["read"],
            AccessTokenOptions.Interactive) { CallerCancellation = caller.Token }), "c0ffee");

        var back = RoundTrip(request);
        var cancel = RoundTrip(new CancelTokenRequest(account, "c0ffee"));

        Assert.Equal((account, "c0ffee", true), (back.Request.Account, back.CancelId, back.Request.Options.AllowInteraction));
        Assert.Equal(["read"], back.Request.Scopes);
        Assert.Equal((account, "c0ffee"), (cancel.Account, cancel.CancelId));
    }

    [Fact]
    public void A_step_up_request_keeps_its_acr_values_and_max_age()
    {
        // The README's step-up idiom: a collection expression, whose compiler-generated list the remote cannot build.
        var request = AccountGateway.ForWire(new O8Actors.Accounts.GetAccessToken(new OAuthAccount("sandbox", "alice"), null,
            new AccessTokenOptions(AllowInteraction: true, ForceRefresh: true, new AuthorizationRequest { AcrValues = ["phr"], MaxAge = TimeSpan.Zero })));

        var back = RoundTrip(request);

        Assert.Equal(["phr"], back.Options.Login!.AcrValues!);
        Assert.Equal(TimeSpan.Zero, back.Options.Login.MaxAge);
    }

    [Fact]
    public void A_DPoP_bound_access_token_keeps_its_key_on_the_way_to_the_callers_node()
    {
        using var key = O8Actors.Dpop.DpopKey.Create();
        var token = new AccessToken(new OAuthAccount("sandbox", "alice"), "access", "DPoP", DateTimeOffset.UnixEpoch.AddDays(1), "openid")
        {
            DpopKey = key,
            IdTokenSubject = "alice",
        };

        // As the account's entity answers and the caller's gateway reads the answer.
        var wire = Assert.IsType<WireAccessToken>(AccountEntity.ForWire(token));
        var back = Assert.IsType<AccessToken>(AccountGateway.FromWire(RoundTrip(wire)));

        Assert.Equal(key.Thumbprint, back.DpopKey!.Thumbprint);
        Assert.Equal(key.ToJwk(), back.DpopKey.ToJwk()); // the private part too: the caller's node signs proofs with it
        Assert.Equal(token with { DpopKey = null }, back with { DpopKey = null });
        // What a log line shows holds neither the token nor the key.
        Assert.DoesNotContain("access\"", wire.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(wire.DpopKey, wire.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("\"d\"", wire.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_DPoP_bound_login_keeps_its_key_on_the_way_to_the_accounts_entity()
    {
        using var key = O8Actors.Dpop.DpopKey.Create();
        var account = new OAuthAccount("sandbox", "alice");
        var tokens = new TokenSet("access", "DPoP", DateTimeOffset.UnixEpoch.AddHours(1), "refresh", "openid") { DpopKey = key };

        // As the node's gateway sends it (the extractor still finds its entity) and the entity reads it.
        var wire = Assert.IsType<WireRememberLogin>(WireRememberLogin.ForWire(new O8Actors.Accounts.RememberLogin(account, tokens)));
        Assert.Equal(account.Id, new AccountMessageExtractor(10).EntityId(wire));
        var back = RoundTrip(wire).ToMessage();

        Assert.Equal(account, back.Account);
        Assert.Equal(key.Thumbprint, back.Tokens.DpopKey!.Thumbprint);
        Assert.Equal(key.ToJwk(), back.Tokens.DpopKey.ToJwk());
        Assert.Equal(tokens with { DpopKey = null }, back.Tokens with { DpopKey = null });
        Assert.DoesNotContain("refresh", wire.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(wire.DpopKey, wire.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_login_that_outlived_its_accounts_actor_and_its_callers_keep_their_mark_across_nodes()
    {
        // The account's next node tells by it whether the account was signed out since the login began.
        var account = new OAuthAccount("sandbox", "alice");
        var remember = new O8Actors.Accounts.RememberLogin(account, new TokenSet("access", "Bearer")) { OrphanedOver = 3 };
        Assert.Equal(3, RoundTrip(remember).OrphanedOver);
        Assert.Null(RoundTrip(remember with { OrphanedOver = null }).OrphanedOver);
        using var key = O8Actors.Dpop.DpopKey.Create();
        var bound = Assert.IsType<WireRememberLogin>(WireRememberLogin.ForWire(remember with { Tokens = new TokenSet("access", "DPoP") { DpopKey = key } }));
        Assert.Equal(3, RoundTrip(bound).ToMessage().OrphanedOver);

        var caller = AccountGateway.ForWire(new O8Actors.Accounts.GetAccessToken(account, ["read"], AccessTokenOptions.Interactive) { OrphanedOver = 0 });
        Assert.Equal(0, RoundTrip(caller).OrphanedOver);
        Assert.Null(RoundTrip(caller with { OrphanedOver = null }).OrphanedOver);
        // And what is left of a caller's wait for logins, so the next node starts it no login longer than that.
        Assert.Equal(TimeSpan.FromSeconds(61.5), RoundTrip(caller with { WaitLeft = TimeSpan.FromSeconds(61.5) }).WaitLeft);
        Assert.Null(RoundTrip(caller).WaitLeft);
    }

    [Fact]
    public void A_remember_nobody_waits_for_keeps_its_mark_across_nodes()
    {
        // The account on the other node keeps such a login's tokens in memory should its store fail (nothing else holds them).
        var remember = new O8Actors.Accounts.RememberLogin(new OAuthAccount("sandbox", "bob"), new TokenSet("access", "Bearer")) { NoCallerWaits = true };
        Assert.True(RoundTrip(remember).NoCallerWaits);
        Assert.False(RoundTrip(remember with { NoCallerWaits = false }).NoCallerWaits);
        using var key = O8Actors.Dpop.DpopKey.Create();
        var bound = Assert.IsType<WireRememberLogin>(WireRememberLogin.ForWire(remember with { Tokens = new TokenSet("access", "DPoP") { DpopKey = key } }));
        Assert.True(RoundTrip(bound).ToMessage().NoCallerWaits);
    }

    /// <summary>
    /// An account's interactive login ended because its node is shutting down or leaving (a rolling deploy): the caller on
    /// another node did not cancel, and its node stays, so it is told the node went away (NodeLost: try again), not handed
    /// an OperationCanceledException a web app would take for its own client's abort.
    /// </summary>
    [Fact]
    public void An_account_login_stopped_by_its_nodes_shutdown_reaches_the_callers_node_as_NodeLost()
    {
        var account = new OAuthAccount("sandbox", "alice");

        var back = RoundTrip(WireAccountFailure.From(new O8Actors.Accounts.LoginStoppedByShutdownException(account))).ToException();

        Assert.Equal(LoginFailure.NodeLost, Assert.IsType<AuthorizationFailedException>(back).Failure);
        Assert.Contains("shutting down or leaving the cluster", back.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_request_crosses_nodes_without_its_callers_cancellation()
    {
        // The caller's token is this process's: the entity on another node is sent the request without it (a live token
        // would be serialized as whatever its properties read, a wait handle among them).
        using var caller = new CancellationTokenSource();
        var request = new O8Actors.Accounts.GetAccessToken(new OAuthAccount("sandbox", "alice"), ["read"], AccessTokenOptions.Interactive)
        {
            CallerCancellation = caller.Token,
        };

        var wire = AccountGateway.ForWire(request);
        var back = RoundTrip(wire);

        Assert.False(wire.CallerCancellation.CanBeCanceled);
        Assert.False(back.CallerCancellation.CanBeCanceled);
        Assert.Equal(["read"], back.Scopes);
    }

    [Fact]
    public void Bearer_tokens_and_logins_cross_as_they_are()
    {
        // Nodes of the previous version read these: only what held a key (and never crossed) changes shape.
        var account = new OAuthAccount("sandbox", "alice");
        var remember = new O8Actors.Accounts.RememberLogin(account, new TokenSet("access", "Bearer"));
        var token = new AccessToken(account, "access", "Bearer", null, null);

        Assert.Same(remember, WireRememberLogin.ForWire(remember));
        Assert.Same(token, AccountEntity.ForWire(token));
        Assert.Same(token, AccountGateway.FromWire(token));
    }

    [Fact]
    public void A_malformed_DPoP_key_from_another_node_fails_the_caller_instead_of_throwing()
    {
        var wire = new WireAccessToken(new AccessToken(new OAuthAccount("sandbox", "alice"), "access", "DPoP", null, null), "{\"kty\":\"RSA\"}");

        var failure = Assert.IsType<Status.Failure>(AccountGateway.FromWire(RoundTrip(wire)));

        Assert.Equal(LoginFailure.Internal, Assert.IsType<AuthorizationFailedException>(failure.Cause).Failure);
        Assert.DoesNotContain("RSA", failure.Cause.Message, StringComparison.Ordinal);
    }
}
