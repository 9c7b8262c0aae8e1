using System.Net;
using System.Text.Json;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The PAR endpoint checks a pushed request as an authorization request (RFC 9126 section 2.1): a request /authorize
/// would refuse is refused at the push with a JSON 400 and nothing is stored. A request_uri presented by the wrong client
/// (or none) is refused without being spent, so the login that pushed it can still use it.
/// </summary>
public sealed class PushedRequestCheckTests : SandboxEndpointTest
{
    protected override void Configure(SandboxOptions options) => options.PushedAuthorization = SandboxPushedAuthorization.Optional;

    private static Dictionary<string, string> Pushed(string? change = null, string? value = null)
    {
        var form = new Dictionary<string, string>
        {
            ["client_id"] = Sandboxes.PublicClient, ["response_type"] = "code", ["redirect_uri"] = RawOAuthClient.RedirectUri,
            ["state"] = "s1", ["scope"] = "openid", ["code_challenge"] = Pkce.Create().Challenge, ["code_challenge_method"] = "S256",
        };
        if (change is not null)
        {
            if (value is null) form.Remove(change);
            else form[change] = value;
        }

        return form;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PushAsync(Dictionary<string, string> form)
    {
        using var response = await Client.Http.PostAsync(Server.PushedAuthorizationEndpoint, new FormUrlEncodedContent(form));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    [Theory]
    // RFC 9126 section 2.3: invalid_request is the default code for a missing, invalid or mismatching redirect URI.
    [InlineData("redirect_uri", "http://127.0.0.1:50123/elsewhere", "invalid_request")]
    [InlineData("redirect_uri", null, "invalid_request")]
    [InlineData("response_type", "token", "unsupported_response_type")]
    [InlineData("response_type", null, "invalid_request")]
    [InlineData("state", null, "invalid_request")]
    [InlineData("code_challenge", null, "invalid_request")]
    [InlineData("code_challenge_method", "plain", "invalid_request")]
    [InlineData("code_challenge", "too-short", "invalid_request")]
    [InlineData("response_mode", "fragment", "invalid_request")]
    [InlineData("prompt", "none login", "invalid_request")]
    [InlineData("resource", "https://api.example/", "invalid_target")]
    public async Task A_push_authorize_would_refuse_is_refused_at_the_push_and_stores_nothing(string parameter, string? value, string error)
    {
        var (status, body) = await PushAsync(Pushed(parameter, value));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.False(body.TryGetProperty("request_uri", out _));
        Assert.Equal(0, Server.HeldPushedRequests);
        Assert.Equal(0, Server.Counters.PushedRequests);
        Assert.Equal(1, Server.Counters.Errors(error));
    }

    [Fact]
    public async Task A_valid_push_is_stored()
    {
        var (status, body) = await PushAsync(Pushed());

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", body.GetProperty("request_uri").GetString());
        Assert.Equal(1, Server.HeldPushedRequests);
    }

    [Fact]
    public async Task A_request_uri_presented_by_another_client_or_none_is_refused_and_not_spent()
    {
        var (_, body) = await PushAsync(Pushed());
        var requestUri = Uri.EscapeDataString(body.GetProperty("request_uri").GetString()!);

        using var foreign = await Client.AuthorizeAsync(new Uri(Server.AuthorizationEndpoint, $"?client_id={Sandboxes.BasicClient}&request_uri={requestUri}"));
        using var anonymous = await Client.AuthorizeAsync(new Uri(Server.AuthorizationEndpoint, $"?request_uri={requestUri}"));
        using var rightful = await Client.AuthorizeAsync(new Uri(Server.AuthorizationEndpoint, $"?client_id={Sandboxes.PublicClient}&request_uri={requestUri}"));

        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, rightful.StatusCode);
        Assert.StartsWith(RawOAuthClient.RedirectUri + "?code=", rightful.Headers.Location!.AbsoluteUri);
        Assert.Equal(0, Server.HeldPushedRequests); // used once, by its own client
    }
}
