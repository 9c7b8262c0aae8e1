using System.Text;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>RFC 7009 revocation through Duende.IdentityModel: what is sent, and what a refusal says (never the token).</summary>
public sealed class RevocationTests : IAsyncLifetime
{
    private const string Token = "refresh-secret-4b1d";
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private GenericOAuthStrategy Strategy(bool withEndpoint = true, ClientAuthentication auth = ClientAuthentication.Basic)
    {
        var options = Options(_server.Url("/token"), auth);
        if (withEndpoint) options.RevocationEndpoint = _server.Url("/revoke");
        return new GenericOAuthStrategy(options);
    }

    [Fact]
    public async Task Revocation_posts_the_token_and_its_hint_with_the_client_credentials()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", "");

        var revoked = await Strategy().RevokeAsync(new RevocationContext(Token, "refresh_token"), _http, CancellationToken.None);

        Assert.True(revoked);
        var request = Assert.Single(_server.Requests);
        Assert.Equal(("POST", "/revoke"), (request.Method, request.Path));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"client-1:{ClientSecret}")), request.Authorization);
        Assert.Equal(Token, request.Form["token"]);
        Assert.Equal("refresh_token", request.Form["token_type_hint"]);
    }

    [Fact]
    public async Task A_refusal_throws_with_the_error_code_and_without_the_token()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 400, "application/json",
            $$"""{"error":"unsupported_token_type","error_description":"cannot revoke {{Token}}"}""");

        var error = await Assert.ThrowsAsync<TokenExchangeException>(() =>
            Strategy().RevokeAsync(new RevocationContext(Token, "access_token"), _http, CancellationToken.None));

        Assert.Equal("unsupported_token_type", error.ProviderError);
        Assert.DoesNotContain(Token, error.Message);
        Assert.DoesNotContain(ClientSecret, error.Message);
    }

    [Fact]
    public async Task Without_a_revocation_endpoint_nothing_is_sent()
    {
        var revoked = await Strategy(withEndpoint: false).RevokeAsync(new RevocationContext(Token, "refresh_token"), _http, CancellationToken.None);

        Assert.False(revoked);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public void A_revocation_endpoint_in_clear_text_off_loopback_is_refused()
    {
        var options = Options(_server.Url("/token"));
        options.RevocationEndpoint = new Uri("http://provider.example/revoke");

        var error = Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(options));
        Assert.Contains("RevocationEndpoint", error.Message);
    }
}
