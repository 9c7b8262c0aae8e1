using System.Net;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Sandbox;

public sealed class AuthorizeEndpointTests : IAsyncLifetime
{
    private SandboxAuthorizationServer _server = null!;
    private RawOAuthClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await Sandboxes.StartAsync();
        _client = new RawOAuthClient(_server);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("http://127.0.0.1:50123/callback/")]
    [InlineData("http://127.0.0.1:50124/callback")]
    [InlineData("http://localhost:50123/callback")]
    [InlineData("https://evil.example/callback")]
    public async Task Unregistered_redirect_uri_gets_a_400_page_and_is_never_redirected(string redirectUri)
    {
        using var response = await _client.AuthorizeAsync(_client.AuthorizeUrl(Sandboxes.PublicClient, redirectUri: redirectUri));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Contains("invalid_redirect_uri", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, _server.Counters.Errors("invalid_redirect_uri"));
        Assert.Equal(0, _server.Counters.CodesIssued);
    }

    [Fact]
    public async Task Unknown_client_gets_a_400_page()
    {
        using var response = await _client.AuthorizeAsync(_client.AuthorizeUrl("nobody"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("consent-1", "consent_required")]
    [InlineData("hang-1", "interaction_required")]
    public async Task Prompt_none_answers_at_once_with_an_error_where_the_user_would_be_needed(string loginHint, string error)
    {
        var url = _client.AuthorizeUrl(Sandboxes.PublicClient, state: "s-none", extra: new Dictionary<string, string?> { ["login_hint"] = loginHint, ["prompt"] = "none" });

        var query = await _client.AuthorizeRedirectAsync(url);

        Assert.Equal(error, query["error"]);
        Assert.Equal("s-none", query["state"]);
        Assert.Equal(0, _server.Counters.ConsentPagesShown);
        Assert.Equal(0, _server.Counters.CodesIssued);
    }

    [Theory]
    [InlineData("fragment")]
    [InlineData("form_post")]
    public async Task A_response_mode_other_than_query_is_refused_by_redirect(string mode)
    {
        var url = _client.AuthorizeUrl(Sandboxes.PublicClient, extra: new Dictionary<string, string?> { ["response_mode"] = mode });

        var query = await _client.AuthorizeRedirectAsync(url);

        Assert.Equal("invalid_request", query["error"]);
        Assert.False(query.ContainsKey("code"));
        Assert.Equal(0, _server.Counters.CodesIssued);
    }

    [Fact]
    public async Task Response_mode_query_and_prompt_none_without_interaction_approve()
    {
        var url = _client.AuthorizeUrl(Sandboxes.PublicClient, extra: new Dictionary<string, string?> { ["response_mode"] = "query", ["prompt"] = "none" });

        var query = await _client.AuthorizeRedirectAsync(url);

        Assert.False(string.IsNullOrEmpty(query["code"]));
    }

    [Fact]
    public async Task Prompt_none_with_another_prompt_is_invalid_request()
    {
        var url = _client.AuthorizeUrl(Sandboxes.PublicClient, extra: new Dictionary<string, string?> { ["prompt"] = "none login" });

        Assert.Equal("invalid_request", (await _client.AuthorizeRedirectAsync(url))["error"]);
    }

    [Fact]
    public async Task Approval_redirects_with_code_state_and_issuer()
    {
        var query = await _client.AuthorizeRedirectAsync(_client.AuthorizeUrl(Sandboxes.PublicClient, state: "abc-123"));

        Assert.False(string.IsNullOrEmpty(query["code"]));
        Assert.Equal("abc-123", query["state"]);
        Assert.Equal(_server.IssuerString, query["iss"]);
        Assert.Equal(1, _server.Counters.CodesIssued);
        Assert.Equal(1, _server.Counters.AuthorizeRequests);
    }

    [Fact]
    public async Task Missing_pkce_is_redirected_as_invalid_request()
    {
        var query = await _client.AuthorizeRedirectAsync(_client.AuthorizeUrl(Sandboxes.PublicClient, state: "s-9", withPkce: false));

        Assert.Equal("invalid_request", query["error"]);
        Assert.Contains("PKCE", query["error_description"]);
        Assert.Equal("s-9", query["state"]);
        Assert.Equal(_server.IssuerString, query["iss"]);
        Assert.False(query.ContainsKey("code"));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData(null)]
    public async Task Plain_pkce_is_refused(string? method)
    {
        var query = await _client.AuthorizeRedirectAsync(_client.AuthorizeUrl(Sandboxes.PublicClient, method: method));

        Assert.Equal("invalid_request", query["error"]);
        Assert.Contains("S256", query["error_description"]);
        Assert.False(query.ContainsKey("code"));
    }

    [Fact]
    public async Task Missing_state_is_refused()
    {
        var query = await _client.AuthorizeRedirectAsync(_client.AuthorizeUrl(Sandboxes.PublicClient, extra: new Dictionary<string, string?> { ["state"] = null }));

        Assert.Equal("invalid_request", query["error"]);
        Assert.False(query.ContainsKey("state"));
        Assert.False(query.ContainsKey("code"));
    }

    [Theory]
    [InlineData("token", "unsupported_response_type")]
    [InlineData("code id_token", "unsupported_response_type")]
    public async Task Only_the_code_response_type_is_supported(string responseType, string error)
    {
        var query = await _client.AuthorizeRedirectAsync(_client.AuthorizeUrl(Sandboxes.PublicClient, extra: new Dictionary<string, string?> { ["response_type"] = responseType }));

        Assert.Equal(error, query["error"]);
    }

    [Fact]
    public async Task Duplicate_parameters_are_refused()
    {
        var url = new Uri(_client.AuthorizeUrl(Sandboxes.PublicClient).AbsoluteUri + "&scope=email");

        var query = await _client.AuthorizeRedirectAsync(url);

        Assert.Equal("invalid_request", query["error"]);
        Assert.Contains("scope", query["error_description"]);
    }

    [Fact]
    public async Task Pkce_can_be_turned_off_by_the_test()
    {
        await using var lenient = await Sandboxes.StartAsync(o => o.RequirePkce = false);
        using var client = new RawOAuthClient(lenient);

        var query = await client.AuthorizeRedirectAsync(client.AuthorizeUrl(Sandboxes.PublicClient, withPkce: false));
        var reply = await client.TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["client_id"] = Sandboxes.PublicClient,
            ["code"] = query["code"], ["redirect_uri"] = RawOAuthClient.RedirectUri,
        });

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.NotNull(reply.AccessToken);
    }

    [Fact]
    public async Task Deny_by_login_hint_redirects_access_denied_with_description()
    {
        var query = await _client.AuthorizeRedirectAsync(_client.AuthorizeUrl(Sandboxes.PublicClient, state: "d1",
            extra: new Dictionary<string, string?> { ["login_hint"] = "deny-me" }));

        Assert.Equal("access_denied", query["error"]);
        Assert.False(string.IsNullOrEmpty(query["error_description"]));
        Assert.Equal("d1", query["state"]);
        Assert.Equal(_server.IssuerString, query["iss"]);
        Assert.Equal(1, _server.Counters.Denials);
    }

    [Fact]
    public async Task Custom_decision_sees_custom_parameters()
    {
        await using var server = await Sandboxes.StartAsync(o => o.Decide = r =>
            r.Get("fate") == "refuse" ? SandboxDecision.Deny("custom", "temporarily_unavailable") : SandboxDecision.Approve());
        using var client = new RawOAuthClient(server);

        var refused = await client.AuthorizeRedirectAsync(client.AuthorizeUrl(Sandboxes.PublicClient, extra: new Dictionary<string, string?> { ["fate"] = "refuse" }));
        var approved = await client.AuthorizeRedirectAsync(client.AuthorizeUrl(Sandboxes.PublicClient));

        Assert.Equal("temporarily_unavailable", refused["error"]);
        Assert.Equal("custom", refused["error_description"]);
        Assert.True(approved.ContainsKey("code"));
    }

    [Fact]
    public async Task Never_answer_holds_the_request_until_the_server_stops()
    {
        await using var server = await Sandboxes.StartAsync();
        using var client = new RawOAuthClient(server);
        var pending = client.AuthorizeAsync(client.AuthorizeUrl(Sandboxes.PublicClient, extra: new Dictionary<string, string?> { ["login_hint"] = "hang" }));

        await Eventually.TrueAsync(() => server.Counters.NeverAnswered == 1, "the sandbox holds the request");
        Assert.False(pending.IsCompleted);

        await server.DisposeAsync();
        var outcome = await Record.ExceptionAsync(async () => (await pending.WaitAsync(TimeSpan.FromSeconds(10))).Dispose());
        Assert.IsType<HttpRequestException>(outcome);
        Assert.Equal(0, server.Counters.CodesIssued);
    }

    [Fact]
    public async Task Never_answer_is_bounded_by_the_limit()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var server = await Sandboxes.StartAsync(o => { o.TimeProvider = time; o.NeverAnswerLimit = TimeSpan.FromMinutes(2); });
        using var client = new RawOAuthClient(server);
        var pending = client.AuthorizeAsync(client.AuthorizeUrl(Sandboxes.PublicClient, extra: new Dictionary<string, string?> { ["login_hint"] = "hang" }));
        await Eventually.TrueAsync(() => server.Counters.NeverAnswered == 1, "the sandbox holds the request");

        time.Advance(TimeSpan.FromMinutes(2));
        using var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task Consent_page_offers_forms_that_post_back_and_decide()
    {
        var pageResponse = await _client.AuthorizeAsync(_client.AuthorizeUrl(Sandboxes.PublicClient, state: "c1",
            extra: new Dictionary<string, string?> { ["login_hint"] = "consent-<b>bob</b>" }));
        var page = await pageResponse.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, pageResponse.StatusCode);
        Assert.Contains("method=\"post\"", page);
        Assert.Contains("value=\"approve\"", page);
        Assert.Contains("value=\"deny\"", page);
        Assert.DoesNotContain("<b>bob</b>", page);
        Assert.Equal("no-store", pageResponse.Headers.CacheControl?.ToString());
        var consentId = System.Text.RegularExpressions.Regex.Match(page, "name=\"consent_id\" value=\"([^\"]+)\"").Groups[1].Value;

        using var approve = await _client.Http.PostAsync(new Uri(_server.Issuer, "/authorize/consent"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["consent_id"] = consentId, ["decision"] = "approve" }));
        using var replay = await _client.Http.PostAsync(new Uri(_server.Issuer, "/authorize/consent"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["consent_id"] = consentId, ["decision"] = "approve" }));

        Assert.Equal(HttpStatusCode.Redirect, approve.StatusCode);
        Assert.Contains("code=", approve.Headers.Location!.Query);
        Assert.Contains("state=c1", approve.Headers.Location!.Query);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Equal(1, _server.Counters.ConsentPagesShown);
    }

    [Fact]
    public async Task Consent_deny_redirects_access_denied()
    {
        await using var server = await Sandboxes.StartAsync(o => o.Decide = SandboxDecisions.AlwaysConsentPage);
        using var client = new RawOAuthClient(server);
        var page = await (await client.AuthorizeAsync(client.AuthorizeUrl(Sandboxes.PublicClient))).Content.ReadAsStringAsync();
        var consentId = System.Text.RegularExpressions.Regex.Match(page, "name=\"consent_id\" value=\"([^\"]+)\"").Groups[1].Value;

        using var deny = await client.Http.PostAsync(new Uri(server.Issuer, "/authorize/consent"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["consent_id"] = consentId, ["decision"] = "deny" }));

        Assert.Equal(HttpStatusCode.Redirect, deny.StatusCode);
        Assert.Contains("error=access_denied", deny.Headers.Location!.Query);
    }
}
