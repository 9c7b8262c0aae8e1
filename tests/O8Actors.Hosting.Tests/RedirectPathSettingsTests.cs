using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>Each configured provider's redirect URI: its own by default, a configured <c>RedirectPath</c> when set (presets too).</summary>
public sealed class RedirectPathSettingsTests
{
    [Fact]
    public async Task Configured_providers_get_their_own_redirect_uri_or_the_RedirectPath_they_set()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:corp:AuthorizationEndpoint"] = "https://id.corp.test/authorize";
        settings["O8:Providers:corp:TokenEndpoint"] = "https://id.corp.test/token";
        settings["O8:Providers:corp:ClientId"] = "c";
        settings["O8:Providers:corp:ClientAuthentication"] = "None";
        settings["O8:Providers:gh:Preset"] = "github";
        settings["O8:Providers:gh:ClientId"] = "g";
        settings["O8:Providers:gh:ClientSecret"] = "not-a-real-secret";
        settings["O8:Providers:gh:RedirectPath"] = "/github/callback";
        using var host = HostedO8.Build(settings, systemName: "o8-redirect-paths");
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var logins = host.Services.GetRequiredService<IOAuthLogins>();
            var listener = await logins.GetRedirectUriAsync(TestContext.Current.CancellationToken);

            Assert.Equal(new Uri(listener, "/corp"), await logins.GetRedirectUriAsync("corp", TestContext.Current.CancellationToken));
            Assert.Equal(new Uri(listener, "/github/callback"), await logins.GetRedirectUriAsync("gh", TestContext.Current.CancellationToken));
            await Assert.ThrowsAsync<UnknownProviderException>(() => logins.GetRedirectUriAsync("nobody", TestContext.Current.CancellationToken));
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }
}
