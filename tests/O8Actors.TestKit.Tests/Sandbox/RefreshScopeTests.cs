using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// A refresh that asks for a narrower <c>scope</c> (RFC 6749 section 6): the tokens it issues carry that scope (in the
/// response, at introspection and at <c>/userinfo</c>), while the refresh token keeps the whole original grant, so a
/// later refresh may ask for all of it again; a scope beyond the original grant is <c>invalid_scope</c> and spends nothing.
/// </summary>
public sealed class RefreshScopeTests : SandboxEndpointTest
{
    private const string Granted = "openid profile api";

    [Fact]
    public async Task A_narrower_refresh_issues_tokens_for_that_scope_and_the_refresh_token_keeps_the_original_grant()
    {
        var initial = await SignInAsync();

        var narrowed = await RefreshAsync(initial.RefreshToken!, "api");

        Assert.Equal(HttpStatusCode.OK, narrowed.Status);
        Assert.Equal("api", narrowed.Get("scope"));
        Assert.Null(narrowed.IdToken);                                   // openid was left out
        Assert.Equal("api", await IntrospectedScopeAsync(narrowed.AccessToken!));
        using (var userInfo = await UserInfoAsync(narrowed.AccessToken!))
            Assert.Equal(HttpStatusCode.Forbidden, userInfo.StatusCode);    // insufficient_scope: no openid in this token
        Assert.Equal(Granted, await IntrospectedScopeAsync(narrowed.RefreshToken!));

        var whole = await RefreshAsync(narrowed.RefreshToken!, scope: null);

        Assert.Equal(Granted, whole.Get("scope"));
        Assert.NotNull(whole.IdToken);
        Assert.Equal(Granted, await IntrospectedScopeAsync(whole.AccessToken!));
        using (var userInfo = await UserInfoAsync(whole.AccessToken!))
            Assert.Equal(HttpStatusCode.OK, userInfo.StatusCode);
        // The earlier narrowing did not shrink the grant: asking for part of it again is fine.
        Assert.Equal("openid profile", (await RefreshAsync(whole.RefreshToken!, "profile openid profile")).Get("scope"));
    }

    [Fact]
    public async Task A_scope_beyond_the_original_grant_is_invalid_scope_even_after_a_narrowing_and_spends_nothing()
    {
        var initial = await SignInAsync();
        var narrowed = await RefreshAsync(initial.RefreshToken!, "api");

        var wider = await RefreshAsync(narrowed.RefreshToken!, "api admin");

        Assert.Equal(HttpStatusCode.BadRequest, wider.Status);
        Assert.Equal("invalid_scope", wider.Error);
        Assert.True(Server.IsRefreshTokenActive(narrowed.RefreshToken!));
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(narrowed.RefreshToken!, "openid")).Status);
    }

    private async Task<TokenReply> SignInAsync()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce, Granted, new Dictionary<string, string?> { ["login_hint"] = "alice" });
        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        Assert.Equal(Granted, reply.Get("scope"));
        return reply;
    }

    private Task<TokenReply> RefreshAsync(string refreshToken, string? scope)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["client_id"] = Sandboxes.PublicClient, ["refresh_token"] = refreshToken,
        };
        if (scope is not null) form["scope"] = scope;
        return Client.TokenAsync(form);
    }

    private async Task<string?> IntrospectedScopeAsync(string token)
    {
        using var response = await Client.Http.PostAsync(Server.IntrospectionEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = Sandboxes.PublicClient, ["token"] = token,
        }));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("active").GetBoolean());
        return json.RootElement.GetProperty("scope").GetString();
    }

    private async Task<HttpResponseMessage> UserInfoAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Server.UserInfoEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await Client.Http.SendAsync(request);
    }
}
