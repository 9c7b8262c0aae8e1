using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

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

    /// <summary>
    /// A login whose deadline passes before it has an authorize URL (the provider's discovery hangs) is a timeout that
    /// says no browser was opened, as <c>AuthorizeAsync</c> says it; <c>BeginAsync</c> reported it as the provider being
    /// unavailable.
    /// </summary>
    [Fact]
    public async Task BeginAsync_whose_deadline_passes_before_the_authorize_URL_says_it_timed_out_with_no_browser_opened()
    {
        var ct = TestContext.Current.CancellationToken;
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Listener:ExternalRedirectUri"] = "https://app.example.com/oauth/callback";
        using var host = HostedO8.Build(settings, o => o.AddProvider(new NeverResolves()), systemName: "o8-connector-slow-discovery");
        await host.StartAsync(ct);
        try
        {
            var connector = host.Services.GetRequiredService<IOAuthConnector>();

            var timedOut = await Assert.ThrowsAsync<AuthorizationTimeoutException>(() =>
                connector.BeginAsync("never-resolves", new AuthorizationRequest(Timeout: TimeSpan.FromSeconds(1)), ct).WaitAsync(TimeSpan.FromSeconds(30), ct));

            Assert.Contains("no authorize URL within 1 seconds", timedOut.Message);
            Assert.Equal(TimeSpan.FromSeconds(1), timedOut.Timeout);
        }
        finally
        {
            await host.StopAsync(ct);
        }
    }

    /// <summary>A provider whose discovery never answers.</summary>
    private sealed class NeverResolves : ProviderStrategy
    {
        public override string Name => "never-resolves";

        public override Task<ProviderDescriptor> ResolveAsync(HttpClient http, CancellationToken cancellationToken) =>
            new TaskCompletionSource<ProviderDescriptor>().Task.WaitAsync(cancellationToken);

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new("https://never.example.com/authorize");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            throw new NotSupportedException("No code comes.");
    }
}
