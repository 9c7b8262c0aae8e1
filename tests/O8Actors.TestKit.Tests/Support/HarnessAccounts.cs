using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>Signing a scripted user in through a harness, for tests about what comes after the login.</summary>
internal static class HarnessAccounts
{
    /// <summary>Runs an approving login for <paramref name="user"/>; returns its account and tokens (the login must succeed).</summary>
    public static async Task<(OAuthAccount Account, TokenSet Tokens)> SignInAsync(O8TestHarness o8, string user = "alice")
    {
        var result = await o8.RunAsync(LoginScript.Approve(user)).WaitAsync(TimeSpan.FromSeconds(30));
        var succeeded = Assert.IsType<LoginSucceeded>(result.Outcome);
        return (succeeded.Account!, succeeded.Tokens);
    }

    /// <summary>
    /// Posts <paramref name="token"/> to one of the sandbox's token management endpoints (revocation, RFC 7009;
    /// introspection, RFC 7662) as the harness's client, with <c>client_secret_basic</c>; the answer must be 200.
    /// </summary>
    public static async Task<string> PostTokenAsClientAsync(O8TestHarness o8, Uri endpoint, string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(o8.Client.ClientId)}:{Uri.EscapeDataString(o8.Client.Secret!)}")));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
