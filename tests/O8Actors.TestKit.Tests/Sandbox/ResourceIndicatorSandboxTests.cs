using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// Audience-restricted tokens (RFC 8707 resource indicators, RFC 9700 section 2.3) end to end: a provider with a
/// <c>Resource</c> gets access tokens for that API alone, through the login, every refresh and a device login; such a
/// token is refused by another resource server (the sandbox's userinfo); a resource the server does not serve ends the
/// login with <c>invalid_target</c>; and a token request for another audience than its grant is refused without
/// spending the grant.
/// </summary>
public sealed class ResourceIndicatorSandboxTests
{
    private static readonly Uri Api = new("https://api.corp.example/orders");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_access_token_of_a_provider_with_a_resource_is_for_that_API_alone()
    {
        await using var o8 = await O8TestHarness.StartAsync(new O8TestHarnessOptions { Resource = Api });

        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        var renewed = await o8.Logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);

        Assert.Equal(Api.OriginalString, (string?)(await IntrospectAsync(o8, tokens.AccessToken))["aud"]);
        Assert.Equal(Api.OriginalString, (string?)(await IntrospectAsync(o8, renewed.Token))["aud"]);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);

        // The leaked-token case: another resource server (here the sandbox's userinfo) refuses a token that is not for it.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, o8.Sandbox.UserInfoEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", renewed.Token);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_device_login_of_a_provider_with_a_resource_gets_a_token_for_that_API()
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.Resource = Api;
            o.ConfigureSandbox = sandbox => sandbox.DevicePollInterval = TimeSpan.FromSeconds(1);
        });
        var request = new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "alice" }) { Method = LoginMethod.Device };

        var outcome = await o8.Logins.RunAsync(o8.ProviderName, request).WaitAsync(Wait);

        var signedIn = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal(Api.OriginalString, (string?)(await IntrospectAsync(o8, signedIn.Tokens.AccessToken))["aud"]);
    }

    [Fact]
    public async Task A_resource_the_server_does_not_serve_ends_the_login_with_invalid_target()
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.Resource = Api;
            o.ConfigureSandbox = sandbox => sandbox.ResourceServers.Clear();
        });

        var result = await o8.RunAsync(LoginScript.Approve("alice")).WaitAsync(Wait);

        var denied = Assert.IsType<LoginDenied>(result.Outcome);
        Assert.Equal("invalid_target", denied.Error);
        Assert.Equal(0, o8.Sandbox.Counters.CodesIssued);
    }

    [Fact]
    public async Task A_refresh_for_another_audience_is_refused_and_spends_nothing()
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.Resource = Api;
            o.ConfigureSandbox = sandbox => sandbox.ResourceServers.Add("https://api.corp.example/payroll");
        });
        var (_, tokens) = await HarnessAccounts.SignInAsync(o8);

        using var refused = await RefreshAsync(o8, tokens.RefreshToken!, "https://api.corp.example/payroll");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("invalid_target", (string?)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]);
        Assert.True(o8.Sandbox.IsRefreshTokenActive(tokens.RefreshToken!));

        using var granted = await RefreshAsync(o8, tokens.RefreshToken!, Api.OriginalString);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
    }

    private static async Task<JsonNode> IntrospectAsync(O8TestHarness o8, string token)
    {
        var body = JsonNode.Parse(await HarnessAccounts.PostTokenAsClientAsync(o8, o8.Sandbox.IntrospectionEndpoint, token))!;
        Assert.True((bool)body["active"]!);
        return body;
    }

    private static async Task<HttpResponseMessage> RefreshAsync(O8TestHarness o8, string refreshToken, string resource)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, o8.Sandbox.TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["refresh_token"] = refreshToken,
                ["resource"] = resource,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(o8.Client.ClientId)}:{Uri.EscapeDataString(o8.Client.Secret!)}")));
        return await http.SendAsync(request);
    }
}
