using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The sandbox's <c>/end-session</c> (OpenID Connect RP-Initiated Logout 1.0): a logout with a hint it signed, or a
/// known client, comes back to a URI the client may use (with its <c>state</c>) or to a signed-out page, and is
/// recorded; every refusal is a 400 page and never a redirect, since an end-session endpoint that redirects anywhere is
/// an open redirector.
/// </summary>
public sealed class EndSessionEndpointTests : SandboxEndpointTest
{
    private const string Evil = "https://evil.example/";

    private async Task<string> IdTokenAsync(string subject = "alice")
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce, "openid profile", new Dictionary<string, string?> { ["login_hint"] = subject });
        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        return reply.IdToken ?? throw new InvalidOperationException($"No ID token: {reply}");
    }

    private Task<HttpResponseMessage> EndSessionAsync(IDictionary<string, string?> parameters) =>
        Client.Http.GetAsync(QueryHelpers.AddQueryString(Server.EndSessionEndpoint.AbsoluteUri, parameters));

    /// <summary>A 400 page, no redirect, nothing recorded, the error counted, and none of <paramref name="secrets"/> repeated.</summary>
    private async Task AssertRefusedAsync(HttpResponseMessage response, string error, string reason, params string[] secrets)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(error, body, StringComparison.Ordinal);
        Assert.Contains(reason, body, StringComparison.Ordinal);
        foreach (var secret in secrets) Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
        Assert.Empty(Server.EndedSessions);
        Assert.Equal(0, Server.Counters.SessionsEnded);
        Assert.Equal(1, Server.Counters.Errors(error));
    }

    private static string Encode(JsonNode json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.ToJsonString()));

    [Theory]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/.well-known/oauth-authorization-server")]
    public async Task Both_metadata_documents_advertise_the_end_session_endpoint(string path)
    {
        using var json = JsonDocument.Parse(await Client.Http.GetStringAsync(new Uri(Server.Issuer, path)));

        Assert.Equal(Server.EndSessionEndpoint.AbsoluteUri, json.RootElement.GetProperty("end_session_endpoint").GetString());
        Assert.Equal("/end-session", Server.EndSessionEndpoint.AbsolutePath);
    }

    [Fact]
    public async Task Turned_off_it_is_neither_advertised_nor_served()
    {
        await using var server = await Sandboxes.StartAsync(o => o.EndSession = false);
        using var client = new RawOAuthClient(server);

        foreach (var path in new[] { "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server" })
        {
            using var json = JsonDocument.Parse(await client.Http.GetStringAsync(new Uri(server.Issuer, path)));
            Assert.False(json.RootElement.TryGetProperty("end_session_endpoint", out _), path);
        }

        using var response = await client.Http.GetAsync(QueryHelpers.AddQueryString(server.EndSessionEndpoint.AbsoluteUri, "client_id", Sandboxes.PublicClient));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(server.EndedSessions);
    }

    [Fact]
    public async Task A_valid_hint_and_a_registered_loopback_uri_redirect_there_with_state_and_record_the_session()
    {
        var idToken = await IdTokenAsync("alice");

        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["id_token_hint"] = idToken,
            ["post_logout_redirect_uri"] = RawOAuthClient.RedirectUri,
            ["state"] = "bye 1&2",
            ["ui_locales"] = "fr",
        });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal(RawOAuthClient.RedirectUri, location.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal(["state"], query.Keys);
        Assert.Equal("bye 1&2", query["state"].ToString());
        var ended = Assert.Single(Server.EndedSessions);
        Assert.Equal(new SandboxEndedSession(Sandboxes.PublicClient, "alice", new Uri(RawOAuthClient.RedirectUri)), ended);
        Assert.Equal(1, Server.Counters.SessionsEnded);
    }

    [Fact]
    public async Task Client_id_alone_with_a_registered_uri_is_enough_and_without_state_none_is_added()
    {
        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["client_id"] = Sandboxes.PublicClient,
            ["post_logout_redirect_uri"] = RawOAuthClient.RedirectUri,
        });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(RawOAuthClient.RedirectUri, response.Headers.Location!.AbsoluteUri);
        Assert.Equal(new SandboxEndedSession(Sandboxes.PublicClient, null, new Uri(RawOAuthClient.RedirectUri)), Assert.Single(Server.EndedSessions));
    }

    [Fact]
    public async Task A_form_POST_is_answered_303_and_the_uri_keeps_its_own_query()
    {
        const string signedOut = "http://127.0.0.1:50125/signed-out?from=op";
        Server.RegisterClient("query-app", null, [signedOut], ClientAuthMethod.None);

        using var response = await Client.Http.PostAsync(Server.EndSessionEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = "query-app",
            ["post_logout_redirect_uri"] = signedOut,
            ["state"] = "s-7",
        }));

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal(signedOut + "&state=s-7", response.Headers.Location!.AbsoluteUri);
        Assert.Equal("query-app", Assert.Single(Server.EndedSessions).ClientId);
    }

    [Fact]
    public async Task Without_a_post_logout_uri_the_user_gets_a_signed_out_page()
    {
        var idToken = await IdTokenAsync("bob");

        using var response = await EndSessionAsync(new Dictionary<string, string?> { ["id_token_hint"] = idToken, ["state"] = "unused" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Contains("You are signed out", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(new SandboxEndedSession(Sandboxes.PublicClient, "bob", null), Assert.Single(Server.EndedSessions));
    }

    [Fact]
    public async Task An_expired_hint_is_still_accepted_as_the_specification_allows()
    {
        var idToken = await IdTokenAsync("carol");
        Time.Advance(TimeSpan.FromHours(2));

        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["id_token_hint"] = idToken,
            ["post_logout_redirect_uri"] = RawOAuthClient.RedirectUri,
        });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("carol", Assert.Single(Server.EndedSessions).Subject);
    }

    [Theory]
    [InlineData(Evil)]
    [InlineData("http://127.0.0.1:50124/callback")]
    [InlineData("http://localhost:50123/callback")]
    [InlineData("http://127.0.0.1:50123/callback/")]
    public async Task An_unregistered_post_logout_uri_gets_a_400_page_and_is_never_redirected(string postLogoutRedirectUri)
    {
        var idToken = await IdTokenAsync();

        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["id_token_hint"] = idToken,
            ["post_logout_redirect_uri"] = postLogoutRedirectUri,
            ["state"] = "s1",
        });

        await AssertRefusedAsync(response, "invalid_redirect_uri", "not registered", idToken);
    }

    [Fact]
    public async Task A_hint_signed_by_another_key_is_refused()
    {
        using var rsa = RSA.Create(2048);
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        var header = Encode(new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT" });
        var payload = Encode(new JsonObject
        {
            ["iss"] = Server.IssuerString, ["sub"] = "alice", ["aud"] = Sandboxes.PublicClient, ["iat"] = now, ["exp"] = now + 3600,
        });
        var signature = rsa.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var forged = $"{header}.{payload}.{Base64Url.EncodeToString(signature)}";

        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["id_token_hint"] = forged,
            ["post_logout_redirect_uri"] = RawOAuthClient.RedirectUri,
        });

        await AssertRefusedAsync(response, "invalid_request", "not an ID token signed by this server", forged);
    }

    [Fact]
    public async Task A_logout_token_of_this_server_is_no_hint()
    {
        var logoutToken = Server.CreateLogoutToken(Sandboxes.PublicClient, "alice");

        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["id_token_hint"] = logoutToken,
            ["post_logout_redirect_uri"] = RawOAuthClient.RedirectUri,
        });

        await AssertRefusedAsync(response, "invalid_request", "not an ID token", logoutToken);
        Assert.Empty(Server.EndedSessions);
    }

    [Fact]
    public async Task A_hint_of_this_server_whose_aud_was_altered_is_refused()
    {
        var parts = (await IdTokenAsync()).Split('.');
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!;
        claims["aud"] = Sandboxes.BasicClient;
        var altered = $"{parts[0]}.{Encode(claims)}.{parts[2]}";

        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["id_token_hint"] = altered,
            ["post_logout_redirect_uri"] = RawOAuthClient.RedirectUri,
        });

        await AssertRefusedAsync(response, "invalid_request", "not an ID token signed by this server", altered);
    }

    [Fact]
    public async Task A_client_id_disagreeing_with_the_hint_is_refused()
    {
        var idToken = await IdTokenAsync();

        // basic-app has the same redirect URI registered: only the disagreement is wrong here.
        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["id_token_hint"] = idToken,
            ["client_id"] = Sandboxes.BasicClient,
            ["post_logout_redirect_uri"] = RawOAuthClient.RedirectUri,
        });

        await AssertRefusedAsync(response, "invalid_request", "client_id is not the client the id_token_hint was issued to", idToken);
    }

    [Fact]
    public async Task A_duplicated_parameter_is_refused()
    {
        var url = QueryHelpers.AddQueryString(Server.EndSessionEndpoint.AbsoluteUri, new KeyValuePair<string, string?>[]
        {
            new KeyValuePair<string, string?>("client_id", Sandboxes.PublicClient),
            new KeyValuePair<string, string?>("post_logout_redirect_uri", RawOAuthClient.RedirectUri),
            new KeyValuePair<string, string?>("post_logout_redirect_uri", Evil),
        });

        using var response = await Client.Http.GetAsync(url);

        await AssertRefusedAsync(response, "invalid_request", "was sent more than once");
    }

    [Fact]
    public async Task A_post_logout_uri_without_a_hint_or_client_id_is_refused()
    {
        using var response = await EndSessionAsync(new Dictionary<string, string?> { ["post_logout_redirect_uri"] = RawOAuthClient.RedirectUri });

        await AssertRefusedAsync(response, "invalid_request", "needs client_id or id_token_hint");
    }

    [Fact]
    public async Task An_unknown_client_id_is_refused()
    {
        using var response = await EndSessionAsync(new Dictionary<string, string?>
        {
            ["client_id"] = "nobody",
            ["post_logout_redirect_uri"] = Evil,
        });

        await AssertRefusedAsync(response, "invalid_client", "Unknown client");
    }

    [Fact]
    public async Task A_method_other_than_GET_or_POST_gets_405()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, Server.EndSessionEndpoint);
        using var response = await Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "POST"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Empty(Server.EndedSessions);
    }
}
