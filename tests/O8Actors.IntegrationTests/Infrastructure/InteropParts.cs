using System.Net;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.Hosting;
using O8Actors.IntegrationTests.Browser;
using O8Actors.IntegrationTests.Https;
using O8Actors.IntegrationTests.OidcServer;

namespace O8Actors.IntegrationTests.Infrastructure;

/// <summary>
/// The three real parts every interop fixture needs: oidc-provider, Chromium (real HOME, trusts the mkcert CA) and an
/// mkcert certificate. Started side by side (each takes about a second); if one fails, the others are stopped.
/// </summary>
public sealed class InteropParts : IAsyncDisposable
{
    private InteropParts(OidcProviderServer provider, ChromiumBrowser chromium, MkcertCertificate certificate)
    {
        Provider = provider;
        Chromium = chromium;
        Certificate = certificate;
    }

    /// <summary>The provider.</summary>
    public OidcProviderServer Provider { get; }

    /// <summary>Chromium.</summary>
    public ChromiumBrowser Chromium { get; }

    /// <summary>The listener's certificate.</summary>
    public MkcertCertificate Certificate { get; }

    /// <summary>
    /// A server-mode web app on <paramref name="appRoot"/> (https on loopback with the mkcert certificate, callback at
    /// <c>/oauth/callback</c>) whose provider <c>oidc</c> is this provider, as <paramref name="client"/>, found by discovery
    /// (ID tokens validated). The caller maps its endpoints on the built app and starts it.
    /// </summary>
    public WebApplicationBuilder ServerModeApp(Uri appRoot, OidcServer.OidcClientRegistration client, string systemName)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, appRoot.Port, l => l.UseHttps(Certificate.Certificate)));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["O8:Listener:ExternalRedirectUri"] = new Uri(appRoot, "/oauth/callback").ToString() });
        builder.Services.AddOAuthLogins(o => o.AddProvider(new O8Actors.Providers.OidcDiscoveryStrategy(new O8Actors.Providers.OidcDiscoveryOptions
        {
            Name = "oidc",
            Issuer = Provider.IssuerString,
            ClientId = client.ClientId,
            ClientSecret = client.ClientSecret,
            DefaultScopes = ["openid"],
        })));
        builder.Services.AddAkka(systemName, akka => akka.WithOAuthLogins());
        return builder;
    }

    /// <summary>Starts all three.</summary>
    /// <param name="accessTokenLifetime">The provider's access-token lifetime; null for its default.</param>
    public static async Task<InteropParts> StartAsync(TimeSpan? accessTokenLifetime = null, string pushedAuthorization = "off")
    {
        var provider = StartProviderAsync(accessTokenLifetime, pushedAuthorization);
        var chromium = ChromiumBrowser.LaunchAsync();
        var certificate = MkcertCertificate.CreateAsync();
        try
        {
            await Task.WhenAll(provider, chromium, certificate);
        }
        catch
        {
            // Stop whatever did start, then report the failure.
            if (provider.IsCompletedSuccessfully) await (await provider).DisposeAsync();
            if (chromium.IsCompletedSuccessfully) await (await chromium).DisposeAsync();
            if (certificate.IsCompletedSuccessfully) (await certificate).Dispose();
            throw;
        }

        return new InteropParts(await provider, await chromium, await certificate);
    }

    private static async Task<OidcProviderServer> StartProviderAsync(TimeSpan? accessTokenLifetime, string pushedAuthorization)
    {
        if (accessTokenLifetime is null && pushedAuthorization == "off") return await OidcProviderServer.StartAsync([]);
        var server = new OidcProviderServer { AccessTokenLifetime = accessTokenLifetime, PushedAuthorization = pushedAuthorization };
        try
        {
            await ((IAsyncLifetime)server).InitializeAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        await Provider.DisposeAsync();
        Certificate.Dispose();
    }
}
