using System.Net;
using System.Net.Http.Headers;
using System.Text;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// Every endpoint that authenticates the client answers a client that failed to with 401 <c>invalid_client</c> and a
/// <c>WWW-Authenticate</c> challenge (RFC 6749 section 5.2), as the token endpoint does: a test of a client's handling of
/// that answer gets the same answer from every endpoint.
/// </summary>
public sealed class ClientChallengeTests : SandboxEndpointTest
{
    protected override void Configure(SandboxOptions options) => options.PushedAuthorization = SandboxPushedAuthorization.Optional;

    [Theory]
    [InlineData(SandboxEndpoints.TokenPath, "grant_type=refresh_token&refresh_token=r")]
    [InlineData(SandboxEndpoints.PushedAuthorizationPath, "response_type=code&redirect_uri=x")]
    [InlineData(SandboxEndpoints.DeviceAuthorizationPath, "scope=openid")]
    public async Task A_wrong_client_secret_is_answered_with_401_and_a_challenge(string path, string form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.Issuer, path))
        {
            Content = new StringContent(form, Encoding.ASCII, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.ASCII.GetBytes($"{Sandboxes.BasicClient}:wrong-secret")));

        using var response = await Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_client", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("Basic", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }
}
