using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The sandbox's <c>/userinfo</c> (OpenID Connect Core section 5.3) is a resource server as RFC 6750 describes one: an
/// active token with <c>openid</c> gets its subject; no token, an unknown, expired or revoked token, or a token without
/// <c>openid</c> gets the challenge a real one sends.
/// </summary>
public sealed class UserInfoEndpointTests : SandboxEndpointTest
{
    private async Task<TokenReply> TokensAsync(string scope = "openid profile")
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce, scope, new Dictionary<string, string?> { ["login_hint"] = "alice" });
        return await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
    }

    private async Task<HttpResponseMessage> UserInfoAsync(string? token, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, Server.UserInfoEndpoint);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Client.Http.SendAsync(request);
    }

    private static string Challenge(HttpResponseMessage response) => response.Headers.WwwAuthenticate.ToString();

    [Fact]
    public async Task An_active_token_with_openid_gets_its_subject_by_GET_and_by_POST_and_discovery_names_the_endpoint()
    {
        var tokens = await TokensAsync();

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post })
        {
            using var response = await UserInfoAsync(tokens.AccessToken, method);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("alice", body.RootElement.GetProperty("sub").GetString());
        }

        Assert.Equal(2, Server.Counters.UserInfoRequests);
        using var discovery = JsonDocument.Parse(await Client.Http.GetStringAsync(new Uri(Server.Issuer, "/.well-known/openid-configuration")));
        Assert.Equal(Server.UserInfoEndpoint.AbsoluteUri, discovery.RootElement.GetProperty("userinfo_endpoint").GetString());
    }

    [Fact]
    public async Task No_token_gets_a_bare_challenge_without_an_error_code()
    {
        using var response = await UserInfoAsync(null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Challenge(response));
    }

    [Fact]
    public async Task A_method_other_than_GET_or_POST_gets_405_and_is_counted()
    {
        var tokens = await TokensAsync();

        using var response = await UserInfoAsync(tokens.AccessToken, HttpMethod.Put);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "POST"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal(1, Server.Counters.UserInfoRequests);
    }

    [Fact]
    public async Task An_unknown_an_expired_and_a_revoked_token_each_get_invalid_token()
    {
        using (var unknown = await UserInfoAsync("not-a-token"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
            Assert.Contains("error=\"invalid_token\"", Challenge(unknown));
        }

        var expiring = await TokensAsync();
        Time.Advance(TimeSpan.FromHours(2));
        using (var expired = await UserInfoAsync(expiring.AccessToken))
            Assert.Contains("error=\"invalid_token\"", Challenge(expired));

        var revoking = await TokensAsync();
        Assert.True(await Client.RevokeAsync(Sandboxes.PublicClient, revoking.AccessToken!));
        using (var revoked = await UserInfoAsync(revoking.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
            Assert.Contains("error=\"invalid_token\"", Challenge(revoked));
        }

        Assert.Equal(3, Server.Counters.Errors("invalid_token"));
    }

    [Fact]
    public async Task A_token_without_openid_gets_403_insufficient_scope()
    {
        var tokens = await TokensAsync(scope: "api");

        using var response = await UserInfoAsync(tokens.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("error=\"insufficient_scope\"", Challenge(response));
        Assert.Contains("scope=\"openid\"", Challenge(response));
    }
}
