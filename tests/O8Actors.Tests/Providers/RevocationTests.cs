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

    /// <summary>
    /// Google answers 400 <c>invalid_token</c> for a token no longer valid, as the access token is once its refresh token
    /// was revoked (the whole grant goes): nothing is left to revoke, which is what was asked (RFC 7009 section 2.2: an
    /// invalid token is no error). A sign-out said its tokens might still be live.
    /// </summary>
    [Fact]
    public async Task A_token_the_server_calls_invalid_counts_as_revoked()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 400, "application/json",
            """{"error":"invalid_token","error_description":"Token expired or revoked"}""");

        Assert.True(await Strategy().RevokeAsync(new RevocationContext(Token, "access_token"), _http, CancellationToken.None));
    }

    /// <summary>
    /// RFC 6749 section 2.3.1: the client id and secret are form-encoded before they are joined for HTTP Basic, so a
    /// secret holding ':', '+', '%' or a space reads back whole at a server that decodes them.
    /// </summary>
    [Fact]
    public async Task Basic_credentials_are_form_encoded_so_a_secret_with_reserved_characters_reads_back_whole()
    {
        const string clientId = "client:1 +";
        const string secret = "se:cr+et %/&=é";
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", "");
        var options = Options(_server.Url("/token"), ClientAuthentication.Basic);
        options.ClientId = clientId;
        options.ClientSecret = secret;
        options.RevocationEndpoint = _server.Url("/revoke");

        await new GenericOAuthStrategy(options).RevokeAsync(new RevocationContext(Token, "refresh_token"), _http, CancellationToken.None);

        var header = Assert.Single(_server.Requests).Authorization;
        Assert.StartsWith("Basic ", header, StringComparison.Ordinal);
        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header!["Basic ".Length..])).Split(':');
        Assert.Equal(2, pair.Length);
        Assert.Equal(clientId, System.Net.WebUtility.UrlDecode(pair[0]));
        Assert.Equal(secret, System.Net.WebUtility.UrlDecode(pair[1]));
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
