using O8Actors.IntegrationTests.Browser;
using O8Actors.IntegrationTests.Https;
using O8Actors.IntegrationTests.Infrastructure;
using O8Actors.IntegrationTests.OidcServer;

namespace O8Actors.IntegrationTests.Proof;

/// <summary>
/// Everything the harness proof tests share per class: one oidc-provider, one Chromium, one mkcert certificate and
/// one Kestrel capture listener. Tests register their own clients, so they never see each other's logins.
/// </summary>
public sealed class InteropFixture : IAsyncLifetime
{
    private InteropParts _parts = null!;

    /// <summary>The provider.</summary>
    public OidcProviderServer Provider => _parts.Provider;

    /// <summary>Chromium with the real HOME (trusts the mkcert CA).</summary>
    public ChromiumBrowser Chromium => _parts.Chromium;

    /// <summary>The listener's certificate.</summary>
    public MkcertCertificate Certificate => _parts.Certificate;

    /// <summary>The HTTPS loopback listener that records redirects.</summary>
    public RedirectCaptureServer Listener { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _parts = await InteropParts.StartAsync();
        Listener = await RedirectCaptureServer.StartAsync(Certificate.Certificate);
    }

    /// <summary>Registers a fresh client whose redirect URI is the capture listener.</summary>
    public Task<OidcClientRegistration> RegisterClientAsync(string tokenEndpointAuthMethod = "client_secret_basic") =>
        Provider.RegisterClientAsync(Listener.RedirectUri, tokenEndpointAuthMethod);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (Listener is not null) await Listener.DisposeAsync();
        if (_parts is not null) await _parts.DisposeAsync();
    }
}
