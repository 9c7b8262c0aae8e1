using O8Actors.TestKit.Sandbox;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// With <c>Demo:Sandbox</c> (on in this example's appsettings.json) an in-process sandbox provider stands in for a real
/// one, so the demo runs without accounts. One sandbox serves every node of the cluster mode. It is off unless configured,
/// as in HostedApp: a copy deployed without the key must never sign users in against a sandbox.
/// </summary>
internal static class DemoSandbox
{
    /// <summary>The app's client at the sandbox.</summary>
    private const string ClientId = "web-connect";

    /// <summary>
    /// Starts the sandbox when <c>Demo:Sandbox</c> is on and registers the app's client; returns it (null when off) and
    /// the settings every node adds to its configuration: the callback URI (<see cref="PublicAddress"/>) and, with the
    /// sandbox, the provider's endpoints.
    /// </summary>
    public static async Task<(SandboxAuthorizationServer? Sandbox, Dictionary<string, string?> Settings)> StartIfEnabledAsync(IConfiguration configuration)
    {
        var redirectUri = PublicAddress.RedirectUriSetting(configuration);
        if (!configuration.GetValue("Demo:Sandbox", false)) return (null, new Dictionary<string, string?>([redirectUri]));
        var sandbox = await SandboxAuthorizationServer.StartAsync();
        // The provider's own redirect URI: the callback URI followed by its name (what you register with a real provider).
        sandbox.RegisterClient(ClientId, null, [redirectUri.Value + "/sandbox"], ClientAuthMethod.None);
        // The whole provider lives here, not in appsettings.json: with the sandbox off, a half-configured provider there
        // (a client id without endpoints) would fail the start.
        return (sandbox, new Dictionary<string, string?>([redirectUri])
        {
            ["O8:Providers:sandbox:ClientId"] = ClientId,
            ["O8:Providers:sandbox:ClientAuthentication"] = "None",
            ["O8:Providers:sandbox:DefaultScopes:0"] = "openid",
            ["O8:Providers:sandbox:AuthorizationEndpoint"] = sandbox.AuthorizationEndpoint.ToString(),
            ["O8:Providers:sandbox:TokenEndpoint"] = sandbox.TokenEndpoint.ToString(),
            // The sandbox sends iss (RFC 9207); a provider whose issuer is unknown refuses one (mix-up defence).
            ["O8:Providers:sandbox:Issuer"] = sandbox.IssuerString,
        });
    }
}
