using O8Actors.TestKit.Sandbox;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// With <c>Demo:Sandbox</c> (default) an in-process sandbox provider stands in for a real one, so the demo runs without
/// accounts. One sandbox serves every node of the cluster mode.
/// </summary>
internal static class DemoSandbox
{
    /// <summary>
    /// Starts the sandbox when <c>Demo:Sandbox</c> is on and registers the app's client; returns it (null when off) and
    /// the provider settings every node adds to its configuration.
    /// </summary>
    public static async Task<(SandboxAuthorizationServer? Sandbox, Dictionary<string, string?> Settings)> StartIfEnabledAsync(IConfiguration configuration)
    {
        if (!configuration.GetValue("Demo:Sandbox", true)) return (null, []);
        var sandbox = await SandboxAuthorizationServer.StartAsync();
        // The provider's own redirect URI: the callback URI followed by its name (what you register with a real provider).
        sandbox.RegisterClient(configuration["O8:Providers:sandbox:ClientId"]!, null,
            [configuration["O8:Listener:ExternalRedirectUri"] + "/sandbox"], ClientAuthMethod.None);
        return (sandbox, new Dictionary<string, string?>
        {
            ["O8:Providers:sandbox:AuthorizationEndpoint"] = sandbox.AuthorizationEndpoint.ToString(),
            ["O8:Providers:sandbox:TokenEndpoint"] = sandbox.TokenEndpoint.ToString(),
            // The sandbox sends iss (RFC 9207); a provider whose issuer is unknown refuses one (mix-up defence).
            ["O8:Providers:sandbox:Issuer"] = sandbox.IssuerString,
        });
    }
}
