using O8Actors.IntegrationTests.Browser;
using O8Actors.IntegrationTests.Https;
using O8Actors.IntegrationTests.OidcServer;

namespace O8Actors.IntegrationTests.Proof;

/// <summary>
/// Everything the harness proof tests share per class: one oidc-provider, one Chromium, one mkcert certificate and
/// one Kestrel capture listener. Tests register their own clients, so they never see each other's logins.
/// </summary>
public sealed class InteropFixture : IAsyncLifetime
{
    /// <summary>The provider.</summary>
    public OidcProviderServer Provider { get; private set; } = null!;

    /// <summary>Chromium with the real HOME (trusts the mkcert CA).</summary>
    public ChromiumBrowser Chromium { get; private set; } = null!;

    /// <summary>The listener's certificate.</summary>
    public MkcertCertificate Certificate { get; private set; } = null!;

    /// <summary>The HTTPS loopback listener that records redirects.</summary>
    public RedirectCaptureServer Listener { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        // Independent and each about a second: start them side by side.
        var provider = OidcProviderServer.StartAsync([]);
        var chromium = ChromiumBrowser.LaunchAsync();
        var certificate = MkcertCertificate.CreateAsync();
        try
        {
            await Task.WhenAll(provider, chromium, certificate);
        }
        finally
        {
            // Keep whatever did start, so DisposeAsync stops it even when another part failed.
            if (provider.IsCompletedSuccessfully) Provider = provider.Result;
            if (chromium.IsCompletedSuccessfully) Chromium = chromium.Result;
            if (certificate.IsCompletedSuccessfully) Certificate = certificate.Result;
        }

        Listener = await RedirectCaptureServer.StartAsync(Certificate.Certificate);
    }

    /// <summary>Registers a fresh client whose redirect URI is the capture listener.</summary>
    public Task<OidcClientRegistration> RegisterClientAsync(string tokenEndpointAuthMethod = "client_secret_basic") =>
        Provider.RegisterClientAsync(Listener.RedirectUri, tokenEndpointAuthMethod);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (Listener is not null) await Listener.DisposeAsync();
        if (Chromium is not null) await Chromium.DisposeAsync();
        if (Provider is not null) await Provider.DisposeAsync();
        Certificate?.Dispose();
    }
}
