using System.Net;
using System.Text;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The form bound follows the tokens the sandbox issues: with <see cref="SandboxOptions.AccessTokenLength"/> large, every
/// form endpoint reads a form carrying such a token (so revocation, not only introspection, takes one back), and every
/// one refuses a form beyond the bound with the same reason.
/// </summary>
public sealed class FormBoundTests : SandboxEndpointTest
{
    private const int TokenLength = 300_000;

    protected override void Configure(SandboxOptions options)
    {
        options.AccessTokenLength = TokenLength;
        options.PushedAuthorization = SandboxPushedAuthorization.Optional;
    }

    [Fact]
    public async Task A_long_access_token_is_revoked_at_the_revocation_endpoint()
    {
        var pkce = Pkce.Create();
        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, await Client.GetCodeAsync(Sandboxes.PublicClient, pkce, scope: "api"), pkce);
        Assert.Equal(TokenLength, reply.AccessToken!.Length);

        Assert.True(await Client.RevokeAsync(Sandboxes.PublicClient, reply.AccessToken));

        Assert.False(Server.IsActive(reply.AccessToken));
        Assert.Equal(1, Server.Counters.Revocations);
        Assert.False(await Client.IntrospectActiveAsync(Sandboxes.PublicClient, reply.AccessToken));
    }

    /// <summary>Each form endpoint and the parameter that carries the long value there (a token where it takes one back).</summary>
    public static TheoryData<string, string> Endpoints => new()
    {
        { SandboxEndpoints.TokenPath, "refresh_token" },
        { SandboxEndpoints.IntrospectionPath, "token" },
        { SandboxEndpoints.RevocationPath, "token" },
        { SandboxEndpoints.EndSessionPath, "id_token_hint" },
        { SandboxEndpoints.DeviceAuthorizationPath, "login_hint" },
        { SandboxEndpoints.PushedAuthorizationPath, "login_hint" },
        { SandboxEndpoints.ConsentPath, "consent_id" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Every_form_endpoint_reads_a_form_with_the_longest_token_issued_and_refuses_one_beyond_the_bound(string path, string parameter)
    {
        var token = new string('A', TokenLength);
        var beyond = new string('A', SandboxForm.For(new SandboxOptions { AccessTokenLength = TokenLength }).MaxBytes);

        var (readStatus, read) = await PostAsync(path, parameter, token);
        var (refusedStatus, refused) = await PostAsync(path, parameter, beyond);

        Assert.True((int)readStatus < 500, $"{readStatus}");
        Assert.DoesNotContain("could not be read", read, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, refusedStatus);
        Assert.Contains("could not be read", refused, StringComparison.Ordinal);
    }

    /// <summary>POSTs a form whose <paramref name="parameter"/> is <paramref name="value"/>; the status and the body.</summary>
    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string parameter, string value)
    {
        var body = $"client_id={Sandboxes.PublicClient}&grant_type=refresh_token&{parameter}={value}";
        using var content = new StringContent(body, Encoding.ASCII, "application/x-www-form-urlencoded");
        using var response = await Client.Http.PostAsync(new Uri(Server.Issuer, path), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
