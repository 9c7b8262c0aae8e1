using O8Actors.IntegrationTests.Browser;
using O8Actors.IntegrationTests.Infrastructure;
using O8Actors.IntegrationTests.OidcServer;

namespace O8Actors.IntegrationTests.Proof;

/// <summary>
/// The negative half of the trust proof: Chromium whose HOME has no NSS database (so no mkcert CA) must refuse the
/// listener's certificate. This shows the positive tests pass because of the mkcert CA, not because Chromium
/// ignores certificate errors.
/// </summary>
public sealed class UntrustedCertificateTests(InteropFixture fixture) : IClassFixture<InteropFixture>
{
    [Fact]
    public async Task Chromium_without_the_mkcert_ca_fails_to_land_on_the_https_listener()
    {
        using var emptyHome = new TempFolder("o8-interop-home-");
        await using var untrusting = await ChromiumBrowser.LaunchAsync(home: emptyHome.Path);
        await using var driver = new ChromiumLoginDriver(untrusting);
        var client = await fixture.RegisterClientAsync();
        var request = AuthorizeRequest.Create(fixture.Provider, client);

        var result = await driver.RunAsync(request.Url, LoginScript.Approve);

        Assert.False(result.Landed, $"browser landed although it cannot trust the certificate: {result}");
        Assert.NotNull(result.Error);
        Assert.Contains("ERR_CERT_AUTHORITY_INVALID", result.Error);
        Assert.DoesNotContain("code=", result.Error);
        Assert.DoesNotContain(fixture.Listener.Received, r => r.State == request.State);
    }

    [Fact]
    public async Task Chromium_with_the_real_home_trusts_the_same_listener()
    {
        var context = await fixture.Chromium.NewIsolatedContextAsync();
        await using var owned = context;
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(fixture.Listener.RedirectUri + "?state=direct-probe");

        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Contains(fixture.Listener.Received, r => r.State == "direct-probe");
    }
}
