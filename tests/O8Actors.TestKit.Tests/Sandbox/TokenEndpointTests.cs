using System.Net;
using System.Text;
using System.Text.Json;
using Duende.IdentityModel.Client;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

public sealed class TokenEndpointTests : SandboxEndpointTest
{
    [Theory]
    [InlineData(Sandboxes.BasicClient, ClientCredentialStyle.AuthorizationHeader)]
    [InlineData(Sandboxes.PostClient, ClientCredentialStyle.PostBody)]
    [InlineData(Sandboxes.PublicClient, ClientCredentialStyle.PostBody)]
    public async Task Happy_path_with_each_client_authentication_method(string clientId, ClientCredentialStyle style)
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(clientId, pkce, extra: new Dictionary<string, string?> { ["nonce"] = "n-42", ["login_hint"] = "alice" });

        var response = await Client.Http.RequestAuthorizationCodeTokenAsync(new AuthorizationCodeTokenRequest
        {
            Address = Server.TokenEndpoint.AbsoluteUri,
            ClientId = clientId,
            ClientSecret = clientId == Sandboxes.PublicClient ? null : Sandboxes.Secret,
            ClientCredentialStyle = style,
            Code = code,
            RedirectUri = RawOAuthClient.RedirectUri,
            CodeVerifier = pkce.Verifier,
        });

        Assert.False(response.IsError, response.Error);
        Assert.Equal("Bearer", response.TokenType);
        Assert.Equal(3600, response.ExpiresIn);
        Assert.Equal("openid profile", response.Scope);
        Assert.NotEqual(response.AccessToken, response.RefreshToken);
        Assert.True(Server.IsActive(response.AccessToken!));
        Assert.True(await Client.IntrospectActiveAsync(Sandboxes.PublicClient, "unknown-token") is false);
        Assert.Equal(1, Server.Counters.TokensIssued);

        var idToken = response.IdentityToken!;
        Assert.True(Server.VerifyIdTokenSignature(idToken));
        var parts = idToken.Split('.');
        using var header = JsonDocument.Parse(Base64UrlDecode(parts[0]));
        using var claims = JsonDocument.Parse(Base64UrlDecode(parts[1]));
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal(Server.IssuerString, claims.RootElement.GetProperty("iss").GetString());
        Assert.Equal(clientId, claims.RootElement.GetProperty("aud").GetString());
        Assert.Equal("alice", claims.RootElement.GetProperty("sub").GetString());
        Assert.Equal("n-42", claims.RootElement.GetProperty("nonce").GetString());
        Assert.Equal(Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds(), claims.RootElement.GetProperty("exp").GetInt64());
    }

    [Fact]
    public async Task Token_responses_are_no_store_and_tokens_are_distinct()
    {
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            var pkce = Pkce.Create();
            var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, await Client.GetCodeAsync(Sandboxes.PublicClient, pkce, scope: "api"), pkce);
            Assert.True(reply.NoStore);
            Assert.Null(reply.IdToken);
            Assert.True(tokens.Add(reply.AccessToken!));
            Assert.True(tokens.Add(reply.RefreshToken!));
        }

        Assert.Equal(10, tokens.Count);
    }

    [Fact]
    public async Task Access_tokens_are_as_long_as_asked_and_still_distinct_and_usable()
    {
        await using var server = await Sandboxes.StartAsync(o => o.AccessTokenLength = 300_000);
        using var client = new RawOAuthClient(server);
        var replies = new List<TokenReply>();
        for (var i = 0; i < 2; i++)
        {
            var pkce = Pkce.Create();
            replies.Add(await client.ExchangeAsync(Sandboxes.PublicClient, await client.GetCodeAsync(Sandboxes.PublicClient, pkce, scope: "api"), pkce));
        }

        Assert.All(replies, reply => Assert.Equal(300_000, reply.AccessToken!.Length));
        Assert.NotEqual(replies[0].AccessToken, replies[1].AccessToken);
        Assert.True(server.IsActive(replies[1].AccessToken!));
        Assert.True(await client.IntrospectActiveAsync(Sandboxes.PublicClient, replies[0].AccessToken!));
        // Only access tokens grow.
        Assert.All(replies, reply => Assert.Equal(43, reply.RefreshToken!.Length));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(42)]
    [InlineData(-1)]
    public async Task An_access_token_length_shorter_than_its_random_part_is_refused(int length)
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Sandboxes.StartAsync(o => o.AccessTokenLength = length));
        Assert.Equal(nameof(SandboxOptions.AccessTokenLength), error.ParamName);
    }

    [Fact]
    public async Task Wrong_verifier_is_invalid_grant()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, code, Pkce.Create());

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("invalid_grant", reply.Error);
        Assert.Null(reply.AccessToken);
    }

    [Fact]
    public async Task Missing_verifier_is_invalid_grant()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        var reply = await Client.TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["client_id"] = Sandboxes.PublicClient,
            ["code"] = code, ["redirect_uri"] = RawOAuthClient.RedirectUri,
        });

        Assert.Equal("invalid_grant", reply.Error);
    }

    [Fact]
    public async Task Reused_code_is_refused_and_revokes_the_tokens_issued_from_it()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);
        var first = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.True(await Client.IntrospectActiveAsync(Sandboxes.PublicClient, first.AccessToken!));

        var second = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);

        Assert.Equal("invalid_grant", second.Error);
        Assert.False(Server.IsActive(first.AccessToken!));
        Assert.False(Server.IsRefreshTokenActive(first.RefreshToken!));
        Assert.False(await Client.IntrospectActiveAsync(Sandboxes.PublicClient, first.AccessToken!));
        Assert.Equal("invalid_grant", (await Client.RefreshAsync(Sandboxes.PublicClient, first.RefreshToken!)).Error);
        Assert.Equal(1, Server.Counters.FamiliesRevoked);
    }

    [Fact]
    public async Task Expired_code_is_invalid_grant()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        Time.Advance(TimeSpan.FromSeconds(61));
        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);

        Assert.Equal("invalid_grant", reply.Error);
        Assert.Contains("expired", reply.Get("error_description"));
    }

    [Fact]
    public async Task Code_just_before_expiry_is_accepted()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        Time.Advance(TimeSpan.FromSeconds(59));
        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    [Fact]
    public async Task Access_tokens_expire_on_the_injected_clock()
    {
        var pkce = Pkce.Create();
        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, await Client.GetCodeAsync(Sandboxes.PublicClient, pkce), pkce);
        Assert.True(Server.IsActive(reply.AccessToken!));

        Time.Advance(TimeSpan.FromHours(1));

        Assert.False(Server.IsActive(reply.AccessToken!));
    }

    [Fact]
    public async Task Redirect_uri_must_match_the_authorize_request()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce, redirectUri: "http://127.0.0.1:50123/other");

        Assert.Equal("invalid_grant", reply.Error);
    }

    [Fact]
    public async Task Bad_client_secret_is_invalid_client_with_401()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.BasicClient, pkce);

        var reply = await Client.TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code,
            ["redirect_uri"] = RawOAuthClient.RedirectUri, ["code_verifier"] = pkce.Verifier,
        }, basic: (Sandboxes.BasicClient, "wrong-secret"));

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("invalid_client", reply.Error);
        Assert.Contains("Basic", reply.WwwAuthenticate);
        Assert.DoesNotContain("wrong-secret", reply.Body);
        Assert.Equal(1, Server.Counters.Errors("invalid_client"));

        // The failed attempt did not burn the code: the real client can still redeem it.
        var good = await Client.TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code,
            ["redirect_uri"] = RawOAuthClient.RedirectUri, ["code_verifier"] = pkce.Verifier,
        }, basic: (Sandboxes.BasicClient, Sandboxes.Secret));
        Assert.Equal(HttpStatusCode.OK, good.Status);
    }

    [Fact]
    public async Task A_client_must_use_its_registered_authentication_method()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.BasicClient, pkce);

        var reply = await Client.TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["client_id"] = Sandboxes.BasicClient, ["client_secret"] = Sandboxes.Secret,
            ["code"] = code, ["redirect_uri"] = RawOAuthClient.RedirectUri, ["code_verifier"] = pkce.Verifier,
        });

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("invalid_client", reply.Error);
    }

    [Fact]
    public async Task Confidential_client_without_secret_is_invalid_client()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PostClient, pkce);

        var reply = await Client.ExchangeAsync(Sandboxes.PostClient, code, pkce);

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("invalid_client", reply.Error);
    }

    [Fact]
    public async Task A_code_issued_to_another_client_is_invalid_grant()
    {
        Server.RegisterClient("other-public", null, [RawOAuthClient.RedirectUri], ClientAuthMethod.None);
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        var reply = await Client.ExchangeAsync("other-public", code, pkce);

        Assert.Equal("invalid_grant", reply.Error);
    }

    [Theory]
    [InlineData("password", "unsupported_grant_type")]
    [InlineData("client_credentials", "unsupported_grant_type")]
    [InlineData("", "invalid_request")]
    public async Task Unknown_grant_types_are_refused(string grantType, string error)
    {
        var reply = await Client.TokenAsync(new Dictionary<string, string> { ["grant_type"] = grantType, ["client_id"] = Sandboxes.PublicClient });

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal(error, reply.Error);
    }

    [Fact]
    public async Task Json_body_is_refused_as_invalid_request()
    {
        using var response = await Client.Http.PostAsync(Server.TokenEndpoint, new StringContent("{\"grant_type\":\"authorization_code\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Refresh_tokens_rotate_and_a_reused_one_revokes_the_family()
    {
        var pkce = Pkce.Create();
        var initial = await Client.ExchangeAsync(Sandboxes.PublicClient, await Client.GetCodeAsync(Sandboxes.PublicClient, pkce), pkce);

        var rotated = await Client.RefreshAsync(Sandboxes.PublicClient, initial.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, rotated.Status);
        Assert.NotEqual(initial.RefreshToken, rotated.RefreshToken);
        Assert.NotEqual(initial.AccessToken, rotated.AccessToken);
        Assert.True(Server.IsActive(rotated.AccessToken!));
        Assert.False(Server.IsRefreshTokenActive(initial.RefreshToken!));
        Assert.NotNull(rotated.IdToken);

        var replay = await Client.RefreshAsync(Sandboxes.PublicClient, initial.RefreshToken!);

        Assert.Equal("invalid_grant", replay.Error);
        Assert.False(Server.IsActive(rotated.AccessToken!));
        Assert.False(Server.IsActive(initial.AccessToken!));
        Assert.Equal("invalid_grant", (await Client.RefreshAsync(Sandboxes.PublicClient, rotated.RefreshToken!)).Error);
        Assert.Equal(1, Server.Counters.Refreshes);
        Assert.Equal(1, Server.Counters.FamiliesRevoked);
    }

    [Fact]
    public async Task A_refreshed_id_token_keeps_the_auth_time_of_the_sign_in()
    {
        var pkce = Pkce.Create();
        var initial = await Client.ExchangeAsync(Sandboxes.PublicClient, await Client.GetCodeAsync(Sandboxes.PublicClient, pkce), pkce);
        Time.Advance(TimeSpan.FromMinutes(10));

        var refreshed = await Client.RefreshAsync(Sandboxes.PublicClient, initial.RefreshToken!);

        // OpenID Connect Core 1.0 section 12.2: a refresh is no new authentication, so auth_time stays; iat moves on.
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal(Claim(initial.IdToken!, "auth_time"), Claim(refreshed.IdToken!, "auth_time"));
        Assert.Equal(Claim(initial.IdToken!, "iat") + 600, Claim(refreshed.IdToken!, "iat"));
    }

    private static long Claim(string idToken, string name)
    {
        using var claims = System.Text.Json.JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(idToken.Split('.')[1]));
        return claims.RootElement.GetProperty(name).GetInt64();
    }

    [Fact]
    public async Task Refresh_with_a_wider_scope_is_invalid_scope()
    {
        var pkce = Pkce.Create();
        var initial = await Client.ExchangeAsync(Sandboxes.PublicClient, await Client.GetCodeAsync(Sandboxes.PublicClient, pkce, scope: "openid"), pkce);

        var reply = await Client.TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["client_id"] = Sandboxes.PublicClient,
            ["refresh_token"] = initial.RefreshToken!, ["scope"] = "openid admin",
        });

        Assert.Equal("invalid_scope", reply.Error);
        Assert.True(Server.IsRefreshTokenActive(initial.RefreshToken!));
    }

    private static string Base64UrlDecode(string text) => Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(text));
}
