using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// <c>IOAuthConnector.BeginAsync</c> outside server mode: the loopback listener cannot check the browser binding, so
/// every such login would end as BrowserMismatch after the user consented. It is refused at once instead.
/// </summary>
public sealed class ConnectorOutsideServerModeTests
{
    [Fact]
    public async Task BeginAsync_without_an_external_redirect_uri_throws_at_once_naming_server_mode()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize";
        settings["O8:Providers:crm:TokenEndpoint"] = "https://crm.example.com/token";
        settings["O8:Providers:crm:ClientId"] = "crm-client";
        settings["O8:Providers:crm:ClientAuthentication"] = "None";
        using var host = HostedO8.Build(settings, systemName: "o8-connector-loopback");
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var connector = host.Services.GetRequiredService<IOAuthConnector>();

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                connector.BeginAsync("crm", cancellationToken: TestContext.Current.CancellationToken));

            Assert.Contains("O8:Listener:ExternalRedirectUri", error.Message);
            Assert.Contains("MapOAuthCallback", error.Message);
            var status = await host.Services.GetRequiredService<IOAuthLogins>().GetStatusAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, status.LoginsInFlight);
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }
}
