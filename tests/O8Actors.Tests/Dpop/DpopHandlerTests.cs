using System.Net;
using O8Actors.Dpop;

namespace O8Actors.Tests.Dpop;

/// <summary>The handler against a real resource server on loopback that checks every proof as RFC 9449 section 7.1 asks.</summary>
public sealed class DpopHandlerTests : IAsyncLifetime
{
    private readonly DpopKey _key = DpopKey.Create();
    private DpopResourceServer _server = null!;

    public async Task InitializeAsync() => _server = await DpopResourceServer.StartAsync(_key.Thumbprint);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _key.Dispose();
    }

    private HttpClient Client(DpopKey key, string? token = null) =>
        new(new DpopHandler(key, _ => ValueTask.FromResult(token ?? _server.AccessToken)) { InnerHandler = new SocketsHttpHandler() });

    [Fact]
    public async Task The_first_call_learns_the_servers_nonce_and_is_retried_once_later_calls_carry_it_at_once()
    {
        using var http = Client(_key);

        using (var first = await http.GetAsync(_server.Resource))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(1, _server.NonceChallenges);

        for (var i = 0; i < 3; i++)
        {
            using var next = await http.GetAsync(_server.Resource);
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        Assert.Equal(1, _server.NonceChallenges);
        Assert.Equal(4, _server.Accepted);
    }

    [Fact]
    public async Task A_body_is_sent_again_on_the_nonce_retry_and_a_new_nonce_later_costs_one_more_retry()
    {
        using var http = Client(_key);
        using (var first = await http.PostAsync(_server.Resource, new StringContent("payload")))
            Assert.Equal("hello payload", await first.Content.ReadAsStringAsync());

        _server.RotateNonce();
        using (var second = await http.PostAsync(_server.Resource, new StringContent("again")))
            Assert.Equal("hello again", await second.Content.ReadAsStringAsync());
        Assert.Equal(2, _server.NonceChallenges);
    }

    [Fact]
    public async Task Calls_sent_together_before_the_nonce_is_known_are_each_retried_once_with_it()
    {
        using var http = Client(_key);
        _server.HoldNonceChallengesUntil(2);

        // Both are refused for the same nonce; the second 401 read finds it already stored by the first.
        var calls = await Task.WhenAll(http.GetAsync(_server.Resource), http.GetAsync(_server.Resource));

        Assert.All(calls, call => Assert.Equal(HttpStatusCode.OK, call.StatusCode));
        foreach (var call in calls) call.Dispose();
        Assert.Equal(2, _server.NonceChallenges);
        Assert.Equal(2, _server.Accepted);
    }

    /// <summary>
    /// The redirect handler under this one takes the Authorization header off a redirected request but points the request
    /// at the redirect's target: a target that answered 401 asking for a nonce used to get the nonce retry, token and all
    /// (and its nonce was kept as the first server's).
    /// </summary>
    [Fact]
    public async Task A_place_the_request_was_redirected_to_that_asks_for_a_nonce_gets_no_retry_and_no_token()
    {
        await using var elsewhere = await O8Actors.Tests.Providers.RecordingServer.StartAsync();
        elsewhere.Handler = (context, _) =>
        {
            context.Response.Headers["DPoP-Nonce"] = "n-elsewhere";
            context.Response.Headers.WWWAuthenticate = "DPoP error=\"use_dpop_nonce\", algs=\"ES256\"";
            context.Response.StatusCode = 401;
            return Task.CompletedTask;
        };
        await using var moving = await O8Actors.Tests.Providers.RecordingServer.StartAsync();
        moving.Handler = (context, _) =>
        {
            context.Response.Redirect(elsewhere.Url("/collect").AbsoluteUri);
            return Task.CompletedTask;
        };
        using var http = Client(_key);

        using var response = await http.GetAsync(moving.Url("/api/me"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var reached = Assert.Single(elsewhere.Requests);
        Assert.Null(reached.Authorization);
        Assert.Single(moving.Requests);
    }

    [Fact]
    public async Task A_call_signed_with_another_key_is_refused_and_not_retried_forever()
    {
        using var other = DpopKey.Create();
        using var http = Client(other);

        using var response = await http.GetAsync(_server.Resource);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("key not the bound one", _server.LastRefusal);
        Assert.Equal(0, _server.Accepted);
    }

    [Fact]
    public async Task On_an_accounts_behalf_a_bearer_token_is_refused_before_anything_is_sent()
    {
        var bearer = new AccessToken(new OAuthAccount("github", "alice"), "bearer-token", "Bearer", null, null);
        using var http = new HttpClient(new DpopHandler(_ => ValueTask.FromResult(bearer)) { InnerHandler = new SocketsHttpHandler() });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => http.GetAsync(_server.Resource));

        Assert.Contains("UseDpop", error.Message);
        Assert.DoesNotContain("bearer-token", error.Message);
        Assert.Equal(0, _server.Accepted + _server.NonceChallenges);
    }

    [Theory]
    [InlineData("http://api.example.com/me")]
    [InlineData("http://localhost.example.com/me")]
    public async Task A_call_in_clear_text_off_this_machine_is_refused_before_a_token_is_asked_for_or_anything_sent(string url)
    {
        var asked = 0;
        using var http = new HttpClient(new DpopHandler(_key, _ =>
        {
            asked++;
            return ValueTask.FromResult(_server.AccessToken);
        }) { InnerHandler = new SocketsHttpHandler() });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => http.GetAsync(url));

        Assert.Contains("DpopHandler sends no access token to http://", error.Message);
        Assert.DoesNotContain("/me", error.Message);
        Assert.Equal(0, asked);
    }

    [Fact]
    public async Task With_allowed_origins_only_those_get_the_token_and_another_loopback_origin_is_refused_unsent()
    {
        var allowed = new Uri(_server.Resource.GetLeftPart(UriPartial.Authority));
        using var http = new HttpClient(new DpopHandler(_key, _ => ValueTask.FromResult(_server.AccessToken))
        {
            AllowedOrigins = [allowed],
            InnerHandler = new SocketsHttpHandler(),
        });

        using (var ok = await http.GetAsync(_server.Resource))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var elsewhere = new UriBuilder(_server.Resource) { Port = _server.Resource.Port == 1 ? 2 : 1 }.Uri;
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => http.GetAsync(elsewhere));

        Assert.Contains("only to its allowed origins", error.Message);
        Assert.Equal(1, _server.Accepted);
    }

    [Fact]
    public void The_allowed_origins_read_back_as_the_handler_compares_them_each_once()
    {
        using var handler = new DpopHandler(_key, _ => ValueTask.FromResult(_server.AccessToken))
        {
            AllowedOrigins = [new Uri("https://API.example.com"), new Uri("https://api.example.com:443/")],
        };

        Assert.Equal([new Uri("https://api.example.com")], handler.AllowedOrigins);
    }
}
