using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.Providers;
using O8Actors.Runtime;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>The providers' HTTP client as O8Actors registers it, against a hostile token endpoint.</summary>
public sealed class TokenHttpClientTests : IAsyncLifetime
{
    private ServiceProvider _services = null!;
    private RecordingServer _server = null!;

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection().AddO8HttpClient(TimeSpan.FromSeconds(10)).BuildServiceProvider();
        _server = await RecordingServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    private HttpClient Http => _services.GetRequiredService<IHttpClientFactory>().CreateClient(O8Bootstrap.HttpClientName);

    private GenericOAuthStrategy Strategy() => new(Options(_server.Url("/token")));

    [Theory]
    [InlineData(307)]
    [InlineData(308)]
    [InlineData(302)]
    public async Task A_redirecting_token_endpoint_never_receives_the_code_twice_and_the_exchange_fails(int status)
    {
        _server.Handler = (context, request) =>
        {
            if (request.Path != "/token") return RecordingServer.Respond(context, 200, "application/json", """{"access_token":"stolen"}""");
            context.Response.Headers.Location = _server.Url("/attacker").AbsoluteUri;
            return RecordingServer.Respond(context, status, "text/plain", "moved");
        };

        var error = await Assert.ThrowsAsync<TokenExchangeException>(() => Strategy().ExchangeCodeAsync(Exchange(), Http, CancellationToken.None));

        var request = Assert.Single(_server.Requests);
        Assert.Equal("/token", request.Path);
        Assert.DoesNotContain(Code, error.Message);
        Assert.DoesNotContain(Verifier, error.Message);
    }

    [Fact]
    public async Task Handlers_the_app_added_before_O8Actors_are_left_out_and_the_log_names_them_once_and_where_to_add_them()
    {
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var appHandlerSaw = 0;
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(new Security.CapturedLogs.Provider(lines)));
        // An app's handler on every client, and one on this client by its name, both before AddO8HttpClient.
        services.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler(() => new CountingHandler(() => Interlocked.Increment(ref appHandlerSaw))));
        services.AddHttpClient(O8Bootstrap.HttpClientName).AddHttpMessageHandler(() => new CountingHandler(() => Interlocked.Increment(ref appHandlerSaw)));
        await using var provider = services.AddO8HttpClient(TimeSpan.FromSeconds(10)).BuildServiceProvider();
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json",
            """{"access_token":"at","token_type":"Bearer","expires_in":3600}""");
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        await Strategy().ExchangeCodeAsync(Exchange(), factory.CreateClient(O8Bootstrap.HttpClientName), CancellationToken.None);
        await Strategy().ExchangeCodeAsync(Exchange(), factory.CreateClient(O8Bootstrap.HttpClientName), CancellationToken.None);

        Assert.Equal(0, appHandlerSaw);
        var told = Assert.Single(lines, l => l.Contains("go without the app's HTTP handlers", StringComparison.Ordinal));
        Assert.Contains(nameof(CountingHandler), told);
        Assert.Contains("after AddOAuthLogins", told);
    }

    /// <summary>A handler of the app's own: tells each request that passes it.</summary>
    private sealed class CountingHandler(Action saw) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            saw();
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task A_bound_UserInfo_GET_is_not_resent_with_its_used_proof_after_a_passing_server_error()
    {
        // A server that remembers proofs (RFC 9449 section 11.1) refuses a repeated jti: the retry of a 503 with the same
        // proof came back as "refused the DPoP proof", which reads as a misconfigured provider.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        _server.Handler = (context, request) =>
        {
            if (!seen.Add(request.Headers["DPoP"]))
            {
                context.Response.Headers.WWWAuthenticate = "DPoP error=\"invalid_dpop_proof\"";
                return RecordingServer.Respond(context, 401, "application/json", "{}");
            }
            return seen.Count == 1
                ? RecordingServer.Respond(context, 503, "text/plain", "busy")
                : RecordingServer.Respond(context, 200, "application/json", """{"sub":"user-1"}""");
        };
        var options = Options(_server.Url("/token"));
        options.UserInfoEndpoint = _server.Url("/userinfo");
        using var key = O8Actors.Dpop.DpopKey.Create();

        var error = await Assert.ThrowsAsync<UserInfoException>(() => new GenericOAuthStrategy(options)
            .FetchUserInfoAsync(new UserInfoContext("SECRET-AT", "DPoP") { DpopKey = key }, Http, CancellationToken.None));

        // The one request the server saw; the failure is the server's own, not a proof it never refused.
        Assert.Single(_server.Requests);
        Assert.NotEqual(UserInfoFailure.Refused, error.Failure);
        Assert.DoesNotContain("SECRET-AT", error.Message);
    }

    [Fact]
    public async Task A_refresh_is_not_redirected_either()
    {
        _server.Handler = (context, request) =>
        {
            if (request.Path != "/token") return RecordingServer.Respond(context, 200, "application/json", """{"access_token":"stolen"}""");
            context.Response.Headers.Location = _server.Url("/attacker").AbsoluteUri;
            return RecordingServer.Respond(context, 307, "text/plain", "moved");
        };

        await Assert.ThrowsAsync<TokenExchangeException>(
            () => Strategy().RefreshAsync(new RefreshContext("rt-secret-1", null), Http, CancellationToken.None));

        Assert.Equal("/token", Assert.Single(_server.Requests).Path);
    }

    [Fact]
    public async Task A_response_over_one_megabyte_is_refused_instead_of_buffered()
    {
        var padding = new string('x', O8Bootstrap.MaxResponseBytes);
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json",
            $$"""{"access_token":"at-1","token_type":"Bearer","padding":"{{padding}}"}""");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(() => Strategy().ExchangeCodeAsync(Exchange(), Http, CancellationToken.None));

        Assert.DoesNotContain(Code, error.Message);
        // It answered: the code may be spent, and a device login must not poll again with its device code (it was said to
        // have failed before the endpoint answered, a passing failure).
        Assert.Contains("answered the authorization code exchange with more than this client reads (1 MB", error.Message);
        Assert.False(error.NoEndpointAnswer);
        Assert.False(O8Actors.Flows.FlowActor.IsTransient(new CodeExchangeFailed("l-1", LoginFailure.TokenExchange, error.Message, null, error)));
    }

    [Fact]
    public async Task A_response_under_the_limit_still_works()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json",
            """{"access_token":"at-1","token_type":"Bearer","expires_in":60}""");

        var tokens = await Strategy().ExchangeCodeAsync(Exchange(), Http, CancellationToken.None);

        Assert.Equal("at-1", tokens.AccessToken);
    }

    [Fact]
    public async Task A_failing_token_POST_is_never_retried_because_a_repeat_would_burn_the_code()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 503, "text/plain", "busy");

        await Assert.ThrowsAsync<TokenExchangeException>(() => Strategy().ExchangeCodeAsync(Exchange(), Http, CancellationToken.None));

        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task A_failing_GET_is_retried()
    {
        var calls = 0;
        _server.Handler = (context, _) => Interlocked.Increment(ref calls) < 3
            ? RecordingServer.Respond(context, 503, "text/plain", "busy")
            : RecordingServer.Respond(context, 200, "application/json", "{}");

        using var response = await Http.GetAsync(_server.Url("/.well-known/openid-configuration"));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, _server.Requests.Count);
    }
}
