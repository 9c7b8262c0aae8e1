using System.Text;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

public sealed class GenericTokenExchangeTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private GenericOAuthStrategy Strategy(ClientAuthentication auth = ClientAuthentication.Basic, Action<GenericOAuthOptions>? change = null)
    {
        var options = Options(_server.Url("/token"), auth);
        change?.Invoke(options);
        return new GenericOAuthStrategy(options, new FixedTimeProvider(Now));
    }

    private void Answer(int status, string contentType, string body) =>
        _server.Handler = (context, _) => RecordingServer.Respond(context, status, contentType, body);

    private const string JsonTokens =
        """{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","scope":"read write","id_token":"id-1"}""";

    [Fact]
    public async Task Basic_auth_sends_credentials_in_the_header_and_the_grant_in_the_form()
    {
        Answer(200, "application/json", JsonTokens);

        await Strategy(ClientAuthentication.Basic).ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/token", request.Path);
        Assert.StartsWith("application/x-www-form-urlencoded", request.ContentType);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"client-1:{ClientSecret}")), request.Authorization);
        Assert.Equal(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = Code,
            ["redirect_uri"] = "https://localhost:41539/callback/",
            ["code_verifier"] = Verifier,
        }, request.Form);
    }

    [Fact]
    public async Task Post_auth_sends_client_id_and_secret_in_the_form()
    {
        Answer(200, "application/json", JsonTokens);

        await Strategy(ClientAuthentication.Post).ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        var request = Assert.Single(_server.Requests);
        Assert.Null(request.Authorization);
        Assert.Equal("client-1", request.Form["client_id"]);
        Assert.Equal(ClientSecret, request.Form["client_secret"]);
        Assert.Equal(Code, request.Form["code"]);
    }

    [Fact]
    public async Task Public_client_sends_only_its_id_and_the_verifier()
    {
        Answer(200, "application/json", JsonTokens);

        await Strategy(ClientAuthentication.None, o => o.ClientSecret = "ignored-secret")
            .ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        var request = Assert.Single(_server.Requests);
        Assert.Null(request.Authorization);
        Assert.Equal("client-1", request.Form["client_id"]);
        Assert.False(request.Form.ContainsKey("client_secret"));
        Assert.Equal(Verifier, request.Form["code_verifier"]);
    }

    [Fact]
    public async Task Without_a_verifier_no_code_verifier_is_sent()
    {
        Answer(200, "application/json", JsonTokens);

        await Strategy().ExchangeCodeAsync(Exchange(verifier: null), _http, CancellationToken.None);

        Assert.False(Assert.Single(_server.Requests).Form.ContainsKey("code_verifier"));
    }

    [Fact]
    public async Task Json_response_maps_to_a_token_set()
    {
        Answer(200, "application/json; charset=utf-8", JsonTokens);

        var tokens = await Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.Equal("at-1", tokens.AccessToken);
        Assert.Equal("Bearer", tokens.TokenType);
        Assert.Equal(Now.AddHours(1), tokens.ExpiresAt);
        Assert.Equal("rt-1", tokens.RefreshToken);
        Assert.Equal("read write", tokens.Scope);
        Assert.Equal("id-1", tokens.IdToken);
        Assert.Equal(JsonTokens, tokens.Raw);
    }

    [Fact]
    public async Task Form_encoded_response_is_accepted()
    {
        const string body = "access_token=gho_abc&scope=repo%2Cgist&token_type=bearer&expires_in=28800&refresh_token=ghr_def";
        Answer(200, "application/x-www-form-urlencoded; charset=utf-8", body);

        var tokens = await Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.Equal("gho_abc", tokens.AccessToken);
        Assert.Equal("bearer", tokens.TokenType);
        Assert.Equal("repo,gist", tokens.Scope);
        Assert.Equal(Now.AddSeconds(28800), tokens.ExpiresAt);
        Assert.Equal("ghr_def", tokens.RefreshToken);
        Assert.Equal(body, tokens.Raw);
    }

    [Fact]
    public async Task Expiry_given_as_text_counts_and_a_repeated_field_takes_its_last_value()
    {
        // Some providers quote expires_in; a body that names a field twice is read as a form would be: the last one wins.
        Answer(200, "application/json", """{"access_token":"at-old","expires_in":"600","scope":7,"access_token":"at-new"}""");

        var tokens = await Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.Equal("at-new", tokens.AccessToken);
        Assert.Equal(Now.AddSeconds(600), tokens.ExpiresAt);
        Assert.Equal("7", tokens.Scope);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    public async Task An_expiry_of_zero_or_less_is_a_token_already_expired_not_one_that_never_expires(string expiresIn)
    {
        Answer(200, "application/json", $$"""{"access_token":"at","expires_in":{{expiresIn}}}""");

        var tokens = await Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        // RFC 6749 section 5.1: the token's lifetime from the response; none left is expired now, never "no expiry".
        Assert.Equal(Now, tokens.ExpiresAt);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("300000000000")] // under TimeSpan's range, past DateTimeOffset's: once an ArgumentOutOfRangeException
    [InlineData("1.7976931348623157e308")]
    [InlineData("\"soon\"")]
    [InlineData("true")]
    public async Task An_expiry_that_is_not_a_positive_number_of_seconds_is_left_unknown(string expiresIn)
    {
        Answer(200, "application/json", $$"""{"access_token":"at","expires_in":{{expiresIn}}}""");

        var tokens = await Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.Equal("at", tokens.AccessToken);
        Assert.Null(tokens.ExpiresAt);
    }

    [Fact]
    public async Task Missing_expiry_and_token_type_get_safe_defaults()
    {
        Answer(200, "application/json", """{"access_token":"at"}""");

        var tokens = await Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.Null(tokens.ExpiresAt);
        Assert.Equal("Bearer", tokens.TokenType);
        Assert.False(tokens.CanRefresh);
    }

    [Fact]
    public async Task Oauth_error_becomes_a_token_exchange_exception_without_secrets()
    {
        // A careless server echoes the code back; it must not reach the message.
        Answer(400, "application/json", $$"""{"error":"invalid_grant","error_description":"Code {{Code}} expired"}""");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Equal("invalid_grant", error.ProviderError);
        Assert.Contains("invalid_grant", error.Message);
        Assert.Contains("expired", error.Message);
        Assert.Contains("HTTP 400", error.Message);
        Assert.Contains("'test'", error.Message);
        AssertNoSecrets(error);
        // A refusal carries no inner HttpRequestException: an app's policy that retries on one would send the code again.
        Assert.Null(error.InnerException);
    }

    [Fact]
    public async Task Error_with_http_200_is_still_an_error()
    {
        // GitHub reports a bad code with 200 and an error field.
        Answer(200, "application/x-www-form-urlencoded", "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Equal("bad_verification_code", error.ProviderError);
        Assert.Contains("The code passed is incorrect or expired.", error.Message);
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task Client_authentication_failure_with_401_keeps_the_provider_error()
    {
        Answer(401, "application/json", """{"error":"invalid_client"}""");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Equal("invalid_client", error.ProviderError);
        Assert.Contains("HTTP 401", error.Message);
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task Server_error_without_oauth_body_names_the_status()
    {
        Answer(500, "text/html", "<html>oops</html>");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Null(error.ProviderError);
        Assert.Contains("HTTP 500", error.Message);
        Assert.Contains("text/html", error.Message);
        AssertNoSecrets(error);
        // A status that may pass is carried as .NET carries it (a device login polls again after it).
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, Assert.IsType<HttpRequestException>(error.InnerException).StatusCode);
    }

    [Fact]
    public async Task A_client_error_without_oauth_body_carries_no_inner_status_a_retry_policy_would_repeat()
    {
        Answer(404, "text/html", "<html>not here</html>");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Contains("HTTP 404", error.Message);
        Assert.Null(error.InnerException);
    }

    [Fact]
    public async Task Malformed_json_is_a_clear_error()
    {
        Answer(200, "application/json", """{"access_token": "at-1", """);

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Contains("HTTP 200", error.Message);
        Assert.Contains("not a token response", error.Message);
        Assert.DoesNotContain("at-1", error.Message);
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task Response_without_access_token_is_rejected()
    {
        Answer(200, "application/json", """{"token_type":"Bearer"}""");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Contains("without an access_token", error.Message);
    }

    [Fact]
    public async Task Unreachable_endpoint_is_a_clear_error()
    {
        var closed = _server.Url("/token");
        await _server.DisposeAsync();
        _server = await RecordingServer.StartAsync(); // keep DisposeAsync valid; the old port is now closed
        var strategy = new GenericOAuthStrategy(Options(closed));

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => strategy.ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Contains("before the token endpoint answered", error.Message);
        Assert.IsType<HttpRequestException>(error.InnerException);
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task Timeout_is_a_clear_error_but_caller_cancellation_stays_cancellation()
    {
        _server.Handler = (context, _) => Task.Delay(Timeout.Infinite, context.RequestAborted);
        using var shortHttp = new HttpClient { Timeout = TimeSpan.FromMilliseconds(200) };

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), shortHttp, CancellationToken.None));
        Assert.Contains("timed out", error.Message);
        AssertNoSecrets(error);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Strategy().ExchangeCodeAsync(Exchange(), _http, cancelled.Token));
    }

    [Fact]
    public async Task Refresh_sends_the_refresh_grant_and_takes_a_rotated_token()
    {
        Answer(200, "application/json", """{"access_token":"at-2","token_type":"Bearer","expires_in":60,"refresh_token":"rt-2"}""");

        var tokens = await Strategy(ClientAuthentication.Post)
            .RefreshAsync(new RefreshContext(RefreshToken, ["read"]), _http, CancellationToken.None);

        var request = Assert.Single(_server.Requests);
        Assert.Equal("refresh_token", request.Form["grant_type"]);
        Assert.Equal(RefreshToken, request.Form["refresh_token"]);
        Assert.Equal("read", request.Form["scope"]);
        Assert.Equal("client-1", request.Form["client_id"]);
        Assert.Equal("at-2", tokens.AccessToken);
        Assert.Equal("rt-2", tokens.RefreshToken);
        Assert.Equal(Now.AddSeconds(60), tokens.ExpiresAt);
    }

    [Fact]
    public async Task Refresh_without_rotation_keeps_the_old_refresh_token()
    {
        Answer(200, "application/json", """{"access_token":"at-2","token_type":"Bearer"}""");

        var tokens = await Strategy().RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None);

        Assert.Equal("at-2", tokens.AccessToken);
        Assert.Equal(RefreshToken, tokens.RefreshToken);
        Assert.False(Assert.Single(_server.Requests).Form.ContainsKey("scope"));
    }

    /// <summary>
    /// A response that leaves <c>scope</c> out grants the scope requested (RFC 6749 section 5.1): a login's (the scopes it
    /// asked for, else the provider's defaults, as its authorize URL named them) and a refresh's that named scopes. Left
    /// unknown, an account took the token as covering any scope and served it to callers whose scopes it lacked.
    /// </summary>
    [Fact]
    public async Task A_response_without_a_scope_grants_the_scope_the_request_asked_for()
    {
        Answer(200, "application/json", """{"access_token":"at","token_type":"Bearer"}""");
        var strategy = Strategy(change: o =>
        {
            o.DefaultScopes = ["identify", "email"];
            o.DeviceAuthorizationEndpoint = _server.Url("/device");
        });

        var asked = await strategy.ExchangeCodeAsync(Exchange() with { Scopes = ["read", "write"] }, _http, CancellationToken.None);
        var defaults = await strategy.ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);
        var device = await strategy.PollDeviceTokenAsync(new DeviceTokenContext("device-code") { Scopes = ["read"] }, _http, CancellationToken.None);
        var deviceDefaults = await strategy.PollDeviceTokenAsync(new DeviceTokenContext("device-code"), _http, CancellationToken.None);
        var refreshed = await strategy.RefreshAsync(new RefreshContext(RefreshToken, ["read"]), _http, CancellationToken.None);
        // A refresh that names no scope asks for the grant's own, which the strategy does not know: left to the account.
        var grantsOwn = await strategy.RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None);

        Assert.Equal("read write", asked.Scope);
        Assert.Equal("identify email", defaults.Scope);
        Assert.Equal("read", device.Tokens!.Scope);
        Assert.Equal("identify email", deviceDefaults.Tokens!.Scope);
        Assert.Equal("read", refreshed.Scope);
        Assert.Null(grantsOwn.Scope);
    }

    [Fact]
    public async Task A_scope_granted_by_omission_is_written_space_separated_whatever_separator_the_requests_use()
    {
        // TokenSet.Scope is read space- (or comma-) separated by the accounts; a provider's own separator is for its requests.
        Answer(200, "application/json", """{"access_token":"at","token_type":"Bearer"}""");
        var strategy = Strategy(change: o => o.ScopeSeparator = ";");

        var asked = await strategy.ExchangeCodeAsync(Exchange() with { Scopes = ["read", "write"] }, _http, CancellationToken.None);
        var refreshed = await strategy.RefreshAsync(new RefreshContext(RefreshToken, ["read", "write"]), _http, CancellationToken.None);

        Assert.Equal("read write", asked.Scope);
        Assert.Equal("read write", refreshed.Scope);
    }

    [Fact]
    public async Task Refused_refresh_names_the_error_without_the_refresh_token()
    {
        Answer(400, "application/json", $$"""{"error":"invalid_grant","error_description":"refresh token {{RefreshToken}} revoked"}""");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None));

        Assert.Equal("invalid_grant", error.ProviderError);
        Assert.Contains("token refresh", error.Message);
        AssertNoSecrets(error);
    }

    [Fact]
    public async Task Configured_headers_reach_the_token_endpoint()
    {
        Answer(200, "application/json", JsonTokens);

        await Strategy(change: o =>
        {
            o.TokenRequestHeaders["Accept"] = "application/vnd.test+json";
            o.TokenRequestHeaders["X-Tenant"] = "t1";
        }).ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        var request = Assert.Single(_server.Requests);
        Assert.Equal("application/vnd.test+json", request.Accept);
        Assert.Equal("t1", request.Headers["X-Tenant"]);
    }

    [Fact]
    public void Token_set_and_contexts_do_not_print_secrets()
    {
        var text = string.Join(" ", Exchange().ToString(), new RefreshContext(RefreshToken).ToString(),
            new TokenSet("access-secret", "Bearer", RefreshToken: RefreshToken).ToString(), Strategy().ToString());

        Assert.DoesNotContain(Code, text);
        Assert.DoesNotContain(RefreshToken, text);
        Assert.DoesNotContain("access-secret", text);
        Assert.DoesNotContain(ClientSecret, text);
    }
}
