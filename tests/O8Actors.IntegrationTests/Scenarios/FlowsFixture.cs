using O8Actors.Configuration;
using O8Actors.IntegrationTests.Browser;
using O8Actors.IntegrationTests.Https;
using O8Actors.IntegrationTests.Infrastructure;
using O8Actors.IntegrationTests.OidcServer;
using O8Actors.Providers;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>
/// The real thing, shared per test class: O8Actors (<see cref="OAuthLogins"/>) with its HTTPS loopback listener on a
/// free port and a real mkcert certificate, Chromium as its browser launcher, and oidc-provider registered through
/// OpenID Connect discovery.
/// </summary>
public class FlowsFixture : IAsyncLifetime
{
    private readonly TimeSpan? _accessTokenLifetime;
    private readonly string _pushedAuthorization;

    /// <summary>With oidc-provider's default access-token lifetime (one hour).</summary>
    public FlowsFixture() : this(null) { }

    /// <summary>With the given access-token lifetime at the provider.</summary>
    protected FlowsFixture(TimeSpan? accessTokenLifetime) : this(accessTokenLifetime, "off") { }

    /// <summary>With the given access-token lifetime and pushed authorization requests (RFC 9126: off, optional or required) at the provider.</summary>
    protected FlowsFixture(TimeSpan? accessTokenLifetime, string pushedAuthorization)
    {
        _accessTokenLifetime = accessTokenLifetime;
        _pushedAuthorization = pushedAuthorization;
    }

    /// <summary>Whether the client is registered DPoP-bound and O8Actors binds its tokens (RFC 9449).</summary>
    protected virtual bool UseDpop => false;

    /// <summary>Whether the client authenticates with <c>private_key_jwt</c> (RFC 7523) instead of a secret.</summary>
    protected virtual bool UsePrivateKeyJwt => false;

    /// <summary>The algorithm the provider signs this client's UserInfo responses with; null: plain JSON responses.</summary>
    protected virtual string? UserInfoSigningAlgorithm => null;

    /// <summary>The client's certificate under <see cref="UsePrivateKeyJwt"/> (an ECDSA P-256 key of this fixture's own).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; private set; }

    /// <summary>The provider name the discovery strategy is registered under.</summary>
    public const string ProviderName = "oidc-provider";

    /// <summary>The provider's own redirect path under the listener's.</summary>
    public const string RedirectPath = "/" + ProviderName;

    private InteropParts _parts = null!;

    /// <summary>The provider.</summary>
    public OidcProviderServer Provider => _parts.Provider;

    /// <summary>Chromium with the real HOME (trusts the mkcert CA).</summary>
    public ChromiumBrowser Chromium => _parts.Chromium;

    /// <summary>The listener's certificate files.</summary>
    public MkcertCertificate Certificate => _parts.Certificate;

    /// <summary>The browser launcher O8Actors uses; the script comes from each login's <c>login_hint</c>.</summary>
    public ChromiumLoginDriver Driver { get; private set; } = null!;

    /// <summary>O8Actors under test.</summary>
    public OAuthLogins Flows { get; private set; } = null!;

    /// <summary>The provider's own redirect URI: the listener's with <see cref="RedirectPath"/>.</summary>
    public Uri RedirectUri { get; private set; } = null!;

    /// <summary>The client registered at the provider for <see cref="RedirectUri"/>.</summary>
    public OidcClientRegistration Client { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _parts = await InteropParts.StartAsync(_accessTokenLifetime, _pushedAuthorization);

        Driver = new ChromiumLoginDriver(Chromium, ChromiumLoginDriver.ScriptFromLoginHint());
        var launcher = await CreateLauncherAsync(Driver);
        Flows = await OAuthLogins.StartAsync(setup =>
        {
            var options = O8Options.FromConfig();
            options.Listener.Port = 0; // a free port: test runs in parallel never collide
            options.Certificates.Folder = Certificate.Folder;
            options.Certificates.CertFile = Path.GetFileName(Certificate.CertFile);
            options.Certificates.KeyFile = Path.GetFileName(Certificate.KeyFile);
            options.Certificates.AutoCreate = false;
            setup.Options = options;
            setup.Browser = launcher;
            setup.SystemName = "o8-interop";
        });
        // The provider's own redirect path, set here because the client must be registered at oidc-provider (for its id)
        // before the provider is registered with O8Actors; the default would be the same path ("/" + the name).
        var listener = await Flows.GetRedirectUriAsync();
        RedirectUri = new Uri(listener, RedirectPath);
        // The listener's own URI too: the OAuthFlow ports (LiteralPortTests) use the same client, and an OAuthFlow keeps
        // the original's one redirect URI.
        ClientCertificate = UsePrivateKeyJwt ? ClientKeys.CreateCertificate() : null;
        Client = ClientCertificate is null
            ? await Provider.RegisterClientAsync(RedirectUri, moreRedirectUris: [listener], dpopBound: UseDpop,
                userInfoSignedResponseAlg: UserInfoSigningAlgorithm)
            : await Provider.RegisterClientAsync(RedirectUri, "private_key_jwt", moreRedirectUris: [listener], dpopBound: UseDpop,
                publicKey: ClientKeys.PublicJwk(ClientCertificate), userInfoSignedResponseAlg: UserInfoSigningAlgorithm);
        await Flows.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = ProviderName,
            RedirectPath = RedirectPath,
            Issuer = Provider.IssuerString,
            ClientId = Client.ClientId,
            ClientSecret = ClientCertificate is null ? Client.ClientSecret : null,
            ClientAuthentication = ClientCertificate is null ? null : ClientAuthentication.PrivateKeyJwt,
            ClientCertificate = ClientCertificate,
            DefaultScopes = ["openid", "offline_access"],
            // offline_access counts only with prompt=consent (OpenID Connect Core 1.0 section 11).
            AuthorizeParameters = { ["prompt"] = "consent" },
            UseDpop = UseDpop,
        }));
    }

    /// <summary>The browser O8Actors opens: by default <paramref name="driver"/>, a fresh browser context per login.</summary>
    protected virtual Task<O8Actors.Browser.IBrowserLauncher> CreateLauncherAsync(ChromiumLoginDriver driver) =>
        Task.FromResult<O8Actors.Browser.IBrowserLauncher>(driver);

    /// <summary>An authorization request whose <c>login_hint</c> picks the browser script and names the user.</summary>
    public static AuthorizationRequest Request(string loginHint, TimeSpan? timeout = null) =>
        new(Timeout: timeout ?? TimeSpan.FromSeconds(120), ExtraParameters: new Dictionary<string, string> { ["login_hint"] = loginHint });

    /// <summary>The browser's result for the login that carried <paramref name="loginHint"/>.</summary>
    public async Task<LoginResult> BrowserResultAsync(string loginHint)
    {
        var launch = Driver.Launches.Single(l => ChromiumLoginDriver.LoginHint(l.AuthorizeUrl) == loginHint);
        return await launch.Completion.WaitAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>What the browser did for each of <paramref name="loginHints"/>, for failure messages (waits for none).</summary>
    public async Task<string> DescribeBrowserAsync(IEnumerable<string> loginHints)
    {
        var lines = new List<string>();
        foreach (var hint in loginHints)
        {
            var launch = Driver.Launches.FirstOrDefault(l => ChromiumLoginDriver.LoginHint(l.AuthorizeUrl) == hint);
            lines.Add(launch switch
            {
                null => $"{hint}: never launched",
                { Completion.IsCompletedSuccessfully: true } => $"{hint}: {await launch.Completion}",
                { Completion.IsFaulted: true } => $"{hint}: driver faulted: {launch.Completion.Exception?.GetBaseException().Message}",
                _ => $"{hint}: script still running",
            });
        }

        return string.Join("\n", lines);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (Flows is not null) await Flows.DisposeAsync();
        if (Driver is not null) await Driver.DisposeAsync();
        if (_parts is not null) await _parts.DisposeAsync();
        ClientCertificate?.Dispose();
    }
}
