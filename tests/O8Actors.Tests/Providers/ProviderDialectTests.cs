using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Flows;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// Answers that real providers give in their own dialect of the RFCs: Google's device flow (<c>verification_url</c>,
/// polls answered 428 and 403), Microsoft's <c>authorization_declined</c>, a revocation endpoint that answers 200 with a
/// plain-text body, an OAuth error sent with a status other than 400. A real server and the real strategy, so Duende's
/// parsing is part of each test.
/// </summary>
public sealed class ProviderDialectTests : TestKit, IAsyncLifetime
{
    private const string DeviceCode = "device-code-7f3a";
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    async Task IAsyncLifetime.DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private GenericOAuthStrategy Strategy() => EveryEndpointOn(_server);

    private void Answer(int status, string contentType, string body) =>
        _server.Handler = (context, _) => RecordingServer.Respond(context, status, contentType, body);

    private Task<DeviceAuthorization> RequestDeviceCodeAsync() =>
        Strategy().RequestDeviceAuthorizationAsync(new DeviceAuthorizationContext([], new Dictionary<string, string>()), _http, CancellationToken.None);

    [Fact]
    public async Task Googles_device_code_answer_names_its_page_verification_url_and_it_is_shown()
    {
        // Google's answer, field for field (its device flow predates RFC 8628's verification_uri).
        Answer(200, "application/json", new JsonObject
        {
            ["device_code"] = DeviceCode,
            ["user_code"] = "GQVQ-JKEC",
            ["verification_url"] = "https://www.google.com/device",
            ["expires_in"] = 1800,
            ["interval"] = 5,
        }.ToJsonString());

        var authorization = await RequestDeviceCodeAsync();

        Assert.Equal(new Uri("https://www.google.com/device"), authorization.VerificationUri);
        Assert.Equal("GQVQ-JKEC", authorization.UserCode);
    }

    [Fact]
    public async Task A_device_code_answer_without_either_name_for_the_page_still_fails_the_login()
    {
        Answer(200, "application/json", new JsonObject { ["device_code"] = DeviceCode, ["user_code"] = "GQVQ-JKEC", ["expires_in"] = 1800 }.ToJsonString());

        var error = await Assert.ThrowsAsync<TokenExchangeException>(RequestDeviceCodeAsync);

        Assert.Contains("verification_uri", error.Message);
    }

    [Theory]
    [InlineData(428, "authorization_pending", DevicePollStatus.Pending)] // Google
    [InlineData(403, "slow_down", DevicePollStatus.SlowDown)]            // Google
    [InlineData(403, "access_denied", DevicePollStatus.Denied)]          // Google
    [InlineData(400, "authorization_declined", DevicePollStatus.Denied)] // Microsoft
    [InlineData(400, "expired_token", DevicePollStatus.Expired)]
    [InlineData(200, "authorization_pending", DevicePollStatus.Pending)]
    public async Task A_device_poll_answer_is_read_from_its_error_code_whatever_the_http_status(int status, string error, DevicePollStatus expected)
    {
        Answer(status, "application/json", new JsonObject { ["error"] = error }.ToJsonString());

        var poll = await Strategy().PollDeviceTokenAsync(new DeviceTokenContext(DeviceCode), _http, CancellationToken.None);

        Assert.Equal(expected, poll.Status);
        Assert.Null(poll.Tokens);
    }

    [Theory]
    [InlineData("text/plain", "OK")]
    [InlineData("text/html", "<html><body>Token revoked</body></html>")]
    [InlineData("application/json", "{}")]
    public async Task A_revocation_answered_200_is_done_whatever_its_body(string contentType, string body)
    {
        Answer(200, contentType, body);

        Assert.True(await Strategy().RevokeAsync(new RevocationContext(RefreshToken, "refresh_token"), _http, CancellationToken.None));
    }

    [Fact]
    public async Task A_revocation_answered_200_with_an_oauth_error_is_still_a_refusal()
    {
        // GitHub's way: errors with 200.
        Answer(200, "application/json", """{"error":"invalid_client"}""");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(() =>
            Strategy().RevokeAsync(new RevocationContext(RefreshToken, "refresh_token"), _http, CancellationToken.None));

        Assert.Equal("invalid_client", error.ProviderError);
    }

    public static TheoryData<string> Endpoints => ["par", "revoke", "device"];

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task An_oauth_error_sent_with_401_keeps_its_code_not_the_status_phrase(string endpoint)
    {
        Answer(401, "application/json", """{"error":"invalid_client","error_description":"bad secret"}""");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(() => endpoint switch
        {
            "par" => Strategy().BuildAuthorizeUrlAsync(AuthorizeContext(), _http, CancellationToken.None),
            "revoke" => Strategy().RevokeAsync(new RevocationContext(RefreshToken, "refresh_token"), _http, CancellationToken.None),
            _ => RequestDeviceCodeAsync(),
        });

        Assert.Equal("invalid_client", error.ProviderError);
        Assert.Contains("invalid_client (HTTP 401)", error.Message);
    }

    [Fact]
    public async Task A_sign_outs_access_token_is_revoked_even_when_the_server_refused_to_revoke_the_refresh_token()
    {
        // RFC 7009 section 2.2.1: a server may not revoke one type of token (unsupported_token_type) and still revoke the other.
        _server.Handler = (context, request) => request.Form["token_type_hint"] == "refresh_token"
            ? RecordingServer.Respond(context, 400, "application/json", """{"error":"unsupported_token_type"}""")
            : RecordingServer.Respond(context, 200, "application/json", "");
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => _http, 4, TimeSpan.FromSeconds(30)));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(Strategy()), TimeSpan.FromSeconds(20));

        registry.Tell(new RevokeTokens("test", "sign-out-1",
            [new RevocationContext(RefreshToken, "refresh_token"), new RevocationContext("access-token-9c2e", "access_token")]), TestActor);

        var done = ExpectMsg<RevocationDone>(TimeSpan.FromSeconds(20));
        Assert.Equal(RevocationOutcome.Failed, done.Outcome);
        Assert.Contains("unsupported_token_type", done.Reason);
        Assert.Equal(["refresh_token", "access_token"], _server.Requests.Select(r => (string?)r.Form["token_type_hint"]));
    }

    [Theory]
    [InlineData(429, "application/json", """{"error":"too_many_requests"}""", true)]   // a rate limit with an error code of its own
    [InlineData(503, "application/json", """{"error":"service_unavailable"}""", true)] // a gateway's
    [InlineData(429, "text/plain", "slow down", true)]
    [InlineData(400, "application/json", """{"error":"server_error"}""", true)]
    // RFC 9449 section 8: the grant was not looked at; a DPoP poll whose one nonce retry met a nonce rotated again (or
    // another node's) polls again with the nonce it now holds, instead of ending a login the user may be approving.
    [InlineData(400, "application/json", """{"error":"use_dpop_nonce"}""", true)]
    [InlineData(503, "application/json", """{"error":"invalid_client"}""", false)]     // final, whatever its status
    [InlineData(400, "application/json", """{"error":"invalid_grant"}""", false)]
    [InlineData(200, "application/json", """{"error":"unknown_thing"}""", false)]
    public async Task A_device_poll_answered_5xx_or_429_is_polled_again_whatever_error_it_carries_unless_a_final_one(
        int status, string contentType, string body, bool pollAgain)
    {
        // Before: any error code hid the status, so a 429 {"error":"too_many_requests"} ended the device login as failed
        // while the user may have been approving, and the same 429 with a plain body was polled again.
        Answer(status, contentType, body);
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => _http, 4, TimeSpan.FromSeconds(30)));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(Strategy()), TimeSpan.FromSeconds(20));

        registry.Tell(new PollDeviceToken("test", "login-1", DeviceCode), TestActor);

        var failed = ExpectMsg<CodeExchangeFailed>(TimeSpan.FromSeconds(20));
        Assert.Equal(pollAgain, FlowActor.IsTransient(failed));
        Assert.DoesNotContain(DeviceCode, failed.Reason, StringComparison.Ordinal);
        Assert.Single(_server.Requests); // the provider actor sent it once: the login decides whether to poll again
    }
}
