using O8Actors.Browser;
using O8Actors.Providers;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// The O8Actors side of a row, in its own process: one <see cref="OAuthLogins"/> (one listener), N logins at a fixed
/// concurrency. The browser lives in the driver: each authorize URL goes out over stdout.
/// </summary>
internal static class O8Role
{
    public static async Task<int> RunAsync(Args args)
    {
        var n = args.Int("n", 2000);
        var concurrency = args.Int("concurrency", 16);
        using var certificate = BenchCertificates.Load(args);
        await using var flows = await StartAsync(args, certificate, new WireBrowser());
        var go = (await Wire.ExpectAsync("GO")).Split(' ');
        await RegisterAsync(flows, go[0], go[1]);

        await MeasuredRow.RunAsync(n, concurrency, _ => flows.AuthorizeAsync("sandbox"), args.Has("blocks"));
        return 0;
    }

    public static async Task<OAuthLogins> StartAsync(Args args, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate,
        IBrowserLauncher browser, TimeSpan? timeout = null, int? maxPending = null)
    {
        var flows = await OAuthLogins.StartAsync(setup =>
        {
            setup.Browser = browser;
            setup.Options.Listener.Port = 0;
            setup.Options.Listener.Scheme = certificate is null ? "http" : "https";
            setup.Options.Certificates.Certificate = certificate;
            setup.Options.Certificates.AutoCreate = false;
            setup.Options.Login.Timeout = timeout ?? TimeSpan.FromSeconds(60);
            setup.Options.Login.ExchangeTimeout = TimeSpan.FromSeconds(30);
            // The pending row holds more waiting logins than the default guard (o8.login.max-pending) lets in.
            if (maxPending is { } most) setup.Options.Login.MaxPending = most;
        });
        // The provider's own redirect URI: the driver registers the sandbox client with it before the provider exists here.
        Wire.Send("READY", new Uri(await flows.GetRedirectUriAsync(), SandboxRedirectPath).ToString());
        return flows;
    }

    private const string SandboxRedirectPath = "/sandbox";

    public static Task RegisterAsync(OAuthLogins flows, string issuer, string clientId) =>
        flows.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = "sandbox",
            RedirectPath = SandboxRedirectPath,
            Issuer = issuer,
            ClientId = clientId,
            ClientAuthentication = ClientAuthentication.None,
            DefaultScopes = ["openid"],
        }));

    /// <summary>Hands the authorize URL to the driver's browser.</summary>
    private sealed class WireBrowser : IBrowserLauncher
    {
        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            Wire.Send("URL", authorizeUrl.AbsoluteUri);
            return Task.FromResult(BrowserLaunchResult.Opened("driver"));
        }
    }
}
