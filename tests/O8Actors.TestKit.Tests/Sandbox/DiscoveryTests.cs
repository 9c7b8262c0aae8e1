using System.Text.Json;
using Duende.IdentityModel.Client;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

public sealed class DiscoveryTests
{
    [Theory]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/.well-known/oauth-authorization-server")]
    public async Task Metadata_advertises_what_the_server_enforces(string path)
    {
        await using var server = await Sandboxes.StartAsync();
        using var http = new HttpClient();

        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.Issuer, path)));
        var root = json.RootElement;

        Assert.Equal(server.IssuerString, root.GetProperty("issuer").GetString());
        Assert.Equal(server.AuthorizationEndpoint.AbsoluteUri, root.GetProperty("authorization_endpoint").GetString());
        Assert.Equal(server.TokenEndpoint.AbsoluteUri, root.GetProperty("token_endpoint").GetString());
        Assert.Equal(["code"], Strings(root, "response_types_supported"));
        Assert.Equal(["S256"], Strings(root, "code_challenge_methods_supported"));
        // The device grant (RFC 8628) is served too, at the advertised device authorization endpoint.
        Assert.Equal(["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"], Strings(root, "grant_types_supported"));
        Assert.Equal(server.DeviceAuthorizationEndpoint.AbsoluteUri, root.GetProperty("device_authorization_endpoint").GetString());
        Assert.Equal(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"], Strings(root, "token_endpoint_auth_methods_supported"));
        Assert.Equal(["RS256", "ES256"], Strings(root, "token_endpoint_auth_signing_alg_values_supported"));
        Assert.True(root.GetProperty("authorization_response_iss_parameter_supported").GetBoolean());
        Assert.StartsWith("http://127.0.0.1:", server.IssuerString, StringComparison.Ordinal);
        Assert.False(server.IssuerString.EndsWith('/'));
    }

    /// <summary>
    /// The options object is read at start: changed afterwards (to start a second, differently set sandbox from it), it
    /// changed the server already running, half of it (some values were copied at start, the rest read per request).
    /// </summary>
    [Fact]
    public async Task Options_changed_after_start_change_no_server_already_running()
    {
        var options = new SandboxOptions();
        await using var honest = await SandboxAuthorizationServer.StartAsync(options);
        options.SendIssuerParameter = false;
        options.PushedAuthorization = SandboxPushedAuthorization.Required;
        options.EndSession = false;
        await using var other = await SandboxAuthorizationServer.StartAsync(options);
        using var http = new HttpClient();

        using var first = JsonDocument.Parse(await http.GetStringAsync(new Uri(honest.Issuer, "/.well-known/openid-configuration")));
        using var second = JsonDocument.Parse(await http.GetStringAsync(new Uri(other.Issuer, "/.well-known/openid-configuration")));

        Assert.True(first.RootElement.GetProperty("authorization_response_iss_parameter_supported").GetBoolean());
        Assert.False(first.RootElement.TryGetProperty("require_pushed_authorization_requests", out var required) && required.GetBoolean());
        Assert.True(first.RootElement.TryGetProperty("end_session_endpoint", out _));
        Assert.False(second.RootElement.TryGetProperty("end_session_endpoint", out _));
        Assert.True(second.RootElement.GetProperty("require_pushed_authorization_requests").GetBoolean());
    }

    [Fact]
    public async Task Duende_discovery_client_accepts_the_https_sandbox_and_its_signing_key()
    {
        using var ca = DevelopmentCertificateAuthority.Create();
        using var certificate = ca.IssueServerCertificate();
        await using var server = await Sandboxes.StartAsync(o => o.Certificate = certificate);
        using var http = ca.CreateHttpClient();

        var disco = await http.GetDiscoveryDocumentAsync(new DiscoveryDocumentRequest { Address = server.IssuerString });

        Assert.False(disco.IsError, disco.Error);
        Assert.Equal(server.IssuerString, disco.Issuer);
        Assert.StartsWith("https://127.0.0.1:", disco.TokenEndpoint, StringComparison.Ordinal);
        var key = Assert.Single(disco.KeySet!.Keys);
        Assert.Equal("EC", key.Kty);
        Assert.Equal("P-256", key.Crv);
    }

    [Fact]
    public async Task Non_loopback_addresses_are_refused()
    {
        var options = new SandboxOptions { ListenAddress = System.Net.IPAddress.Any };

        await Assert.ThrowsAsync<ArgumentException>(() => SandboxAuthorizationServer.StartAsync(options));
    }

    [Fact]
    public async Task Inconsistent_client_registrations_are_refused_with_a_clear_error()
    {
        await using var server = await Sandboxes.StartAsync();

        var noSecret = Assert.Throws<ArgumentException>(() => server.RegisterClient("c1", null, [RawOAuthClient.RedirectUri], ClientAuthMethod.Basic));
        var noRedirect = Assert.Throws<ArgumentException>(() => server.RegisterClient("c2", null, [], ClientAuthMethod.None));
        var taken = Assert.Throws<InvalidOperationException>(() => server.RegisterClient(Sandboxes.PublicClient, null, [RawOAuthClient.RedirectUri], ClientAuthMethod.None));

        Assert.Contains("secret", noSecret.Message);
        Assert.Contains("redirect URI", noRedirect.Message);
        Assert.Contains("already registered", taken.Message);
    }

    [Fact]
    public void Client_registration_never_prints_its_secret()
    {
        var client = new SandboxClient("c", "very-secret-value", [RawOAuthClient.RedirectUri], ClientAuthMethod.Post);

        Assert.DoesNotContain("very-secret-value", client.ToString());
    }

    private static string[] Strings(JsonElement root, string name) =>
        root.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();
}

public sealed class Ipv6SandboxTests
{
    [Fact]
    public async Task Sandbox_can_listen_on_ipv6_loopback()
    {
        await using var server = await Sandboxes.StartAsync(o => o.ListenAddress = System.Net.IPAddress.IPv6Loopback);
        using var client = new RawOAuthClient(server);
        var pkce = Pkce.Create();

        var reply = await client.ExchangeAsync(Sandboxes.PublicClient, await client.GetCodeAsync(Sandboxes.PublicClient, pkce), pkce);

        Assert.StartsWith("http://[::1]:", server.IssuerString, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, reply.Status);
    }
}
