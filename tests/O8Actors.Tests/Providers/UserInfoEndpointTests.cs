using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using O8Actors.Dpop;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A provider's UserInfo request (OpenID Connect Core 1.0 section 5.3) against a real loopback Kestrel: what is sent (a
/// GET with the token as a bearer, or as DPoP with a proof and the server's nonce), and how every answer other than a
/// JSON object is refused, each with its reason and never with the token.
/// </summary>
public sealed class UserInfoEndpointTests : IAsyncLifetime
{
    private const string Token = "SECRET-ACCESS-3c9e";
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private GenericOAuthStrategy Strategy(bool withEndpoint = true)
    {
        var options = Options(_server.Url("/token"));
        if (withEndpoint) options.UserInfoEndpoint = _server.Url("/userinfo");
        return new GenericOAuthStrategy(options);
    }

    private Task<JsonElement?> FetchAsync(UserInfoContext? context = null) =>
        Strategy().FetchUserInfoAsync(context ?? new UserInfoContext(Token, "Bearer"), _http, CancellationToken.None);

    [Fact]
    public async Task A_bearer_token_goes_in_the_Authorization_header_of_a_GET_that_asks_for_JSON()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", """{"sub":"user-1","name":"Ada"}""");

        var document = await FetchAsync();

        Assert.Equal("user-1", document!.Value.GetProperty("sub").GetString());
        var request = Assert.Single(_server.Requests);
        Assert.Equal(("GET", "/userinfo"), (request.Method, request.Path));
        Assert.Equal("Bearer " + Token, request.Authorization);
        Assert.Equal("application/json", request.Accept);
    }

    [Fact]
    public async Task A_provider_without_an_endpoint_answers_null_and_sends_nothing()
    {
        var document = await Strategy(withEndpoint: false).FetchUserInfoAsync(new UserInfoContext(Token, "Bearer"), _http, CancellationToken.None);

        Assert.Null(document);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_token_that_is_neither_bearer_nor_bound_is_not_sent()
    {
        var error = await Assert.ThrowsAsync<UserInfoException>(() => FetchAsync(new UserInfoContext(Token, "MAC")));

        Assert.Equal(UserInfoFailure.NotSupported, error.Failure);
        Assert.Contains("'MAC'", error.Message);
        Assert.Empty(_server.Requests);
    }

    public static TheoryData<int, string, string, string?, UserInfoFailure, string?> Refusals => new()
    {
        { 401, "application/json", "", "Bearer error=\"invalid_token\", error_description=\"expired\"", UserInfoFailure.Unauthorized, "invalid_token" },
        { 401, "application/json", "", null, UserInfoFailure.Unauthorized, null },
        { 403, "application/json", "", "Bearer error=\"insufficient_scope\", scope=\"openid\"", UserInfoFailure.Refused, "insufficient_scope" },
        { 500, "text/plain", "boom " + Token, null, UserInfoFailure.Failed, null },
        // A challenge whose error is not a plain code is not quoted.
        { 401, "application/json", "", "Bearer error=\"<b>hi</b> there\"", UserInfoFailure.Unauthorized, null },
        { 200, "text/html", "<html>" + Token + "</html>", null, UserInfoFailure.InvalidResponse, null },
        { 200, "application/jwt", "eyJhbGciOiJSUzI1NiJ9.e30.sig", null, UserInfoFailure.InvalidResponse, null },
        { 200, "application/json", "[1,2]", null, UserInfoFailure.InvalidResponse, null },
        { 200, "application/json", "{\"sub\":", null, UserInfoFailure.InvalidResponse, null },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Every_other_answer_is_refused_with_its_reason_and_never_the_token(int status, string contentType, string body,
        string? challenge, UserInfoFailure failure, string? providerError)
    {
        _server.Handler = (context, _) =>
        {
            if (challenge is not null) context.Response.Headers.WWWAuthenticate = challenge;
            return RecordingServer.Respond(context, status, contentType, body);
        };

        var error = await Assert.ThrowsAsync<UserInfoException>(() => FetchAsync());

        Assert.Equal(failure, error.Failure);
        Assert.Equal(providerError, error.ProviderError);
        Assert.Contains("'test'", error.Message);
        Assert.DoesNotContain(Token, error.ToString());
        Assert.DoesNotContain("<b>", error.Message);
    }

    [Fact]
    public async Task An_answer_larger_than_64_KiB_is_refused_unread()
    {
        var big = "{\"sub\":\"user-1\",\"pad\":\"" + new string('x', UserInfoClient.MaxResponseBytes) + "\"}";
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", big);

        var error = await Assert.ThrowsAsync<UserInfoException>(() => FetchAsync());

        Assert.Equal(UserInfoFailure.InvalidResponse, error.Failure);
        Assert.Contains("64 KiB", error.Message);
    }

    [Fact]
    public async Task An_unreachable_endpoint_fails_with_the_transport_reason()
    {
        // A loopback port nobody listens on any more.
        var gone = await RecordingServer.StartAsync();
        var options = Options(_server.Url("/token"));
        options.UserInfoEndpoint = gone.Url("/userinfo");
        await gone.DisposeAsync();

        var error = await Assert.ThrowsAsync<UserInfoException>(() =>
            new GenericOAuthStrategy(options).FetchUserInfoAsync(new UserInfoContext(Token, "Bearer"), _http, CancellationToken.None));

        Assert.Equal(UserInfoFailure.Failed, error.Failure);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task A_bound_token_goes_as_DPoP_with_a_proof_and_the_nonce_the_server_asks_for()
    {
        var key = DpopKey.Create();
        var first = true;
        _server.Handler = (context, _) =>
        {
            if (first)
            {
                first = false;
                context.Response.Headers.WWWAuthenticate = "DPoP error=\"use_dpop_nonce\"";
                context.Response.Headers["DPoP-Nonce"] = "nonce-1";
                return RecordingServer.Respond(context, 401, "application/json", "");
            }

            return RecordingServer.Respond(context, 200, "application/json", """{"sub":"user-1"}""");
        };

        var document = await FetchAsync(new UserInfoContext(Token, "DPoP") { DpopKey = key });

        Assert.Equal("user-1", document!.Value.GetProperty("sub").GetString());
        Assert.Equal(2, _server.Requests.Count);
        var retry = _server.Requests[1];
        Assert.Equal("DPoP " + Token, retry.Authorization);
        var proof = new JsonWebToken(retry.Headers["DPoP"]);
        Assert.Equal("GET", proof.GetClaim("htm").Value);
        Assert.Equal(_server.Url("/userinfo").AbsoluteUri, proof.GetClaim("htu").Value);
        Assert.Equal("nonce-1", proof.GetClaim("nonce").Value);
        Assert.Equal(DpopProof.AccessTokenHash(Token), proof.GetClaim("ath").Value);
        Assert.NotEqual(_server.Requests[0].Headers["DPoP"], retry.Headers["DPoP"]);
    }

    [Theory]
    [InlineData("http://provider.example.test/userinfo")]
    [InlineData("userinfo")]
    public void An_endpoint_that_is_not_https_or_loopback_is_refused_when_configured(string endpoint)
    {
        var options = Options(_server.Url("/token"));
        options.UserInfoEndpoint = new Uri(endpoint, UriKind.RelativeOrAbsolute);

        var error = Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(options));

        Assert.Contains("UserInfoEndpoint", error.Message);
    }

    [Fact]
    public async Task Discovery_reads_the_userinfo_endpoint()
    {
        _server.Handler = (context, request) => request.Path switch
        {
            "/.well-known/openid-configuration" => RecordingServer.Respond(context, 200, "application/json", $$"""
                {"issuer":"{{_server.BaseUrl}}","authorization_endpoint":"{{_server.BaseUrl}}/authorize","token_endpoint":"{{_server.BaseUrl}}/token",
                 "userinfo_endpoint":"{{_server.BaseUrl}}/me","code_challenge_methods_supported":["S256"]}
                """),
            "/me" => RecordingServer.Respond(context, 200, "application/json", """{"sub":"user-1"}"""),
            _ => RecordingServer.Respond(context, 404, "text/plain", ""),
        };
        var strategy = new OidcDiscoveryStrategy(new OidcDiscoveryOptions { Name = "disco", Issuer = _server.BaseUrl, ClientId = "client-1" });

        var document = await strategy.FetchUserInfoAsync(new UserInfoContext(Token, "Bearer"), _http, CancellationToken.None);

        Assert.Equal("user-1", document!.Value.GetProperty("sub").GetString());
        Assert.Equal(_server.Url("/me"), strategy.UserInfoEndpoint);
        Assert.Contains(_server.Requests, r => r.Path == "/me" && r.Authorization == "Bearer " + Token);
    }
}
