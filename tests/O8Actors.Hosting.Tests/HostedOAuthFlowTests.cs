using Microsoft.Extensions.DependencyInjection;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>An <see cref="OAuthFlow"/> handed the hosted orchestrator leaves nothing registered there once it is disposed.</summary>
public sealed class HostedOAuthFlowTests
{
    /// <summary>A port flow that never signs in: its registration is what is looked at.</summary>
    private sealed class IdleFlow(IOAuthLogins logins) : OAuthFlow("client-1", "", "identify", logins: logins)
    {
        protected override string AuthUrl => $"https://provider.test/authorize?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}";

        protected override Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("This flow never gets a code.");
    }

    /// <summary>A literal port's shape: no <see cref="IOAuthLogins"/> passed to the base.</summary>
    private sealed class FlowOfItsOwn() : OAuthFlow("client-1", "", "identify")
    {
        protected override string AuthUrl => $"https://provider.test/authorize?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}";

        protected override Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("This flow never gets a code.");
    }

    /// <summary>
    /// Registered with <c>AddOAuthFlow</c>, a flow that passes no orchestrator to the base is refused as it is resolved,
    /// naming what to change. Before, it resolved, and its first call started O8Actors of its own: a second listener on
    /// the hosted one's port (a port-in-use failure), or, on another port, a runtime outside the host's settings.
    /// </summary>
    [Fact]
    public void A_flow_that_passes_no_orchestrator_to_its_base_is_refused_when_resolved()
    {
        var services = new ServiceCollection();
        services.AddOAuthFlow<FlowOfItsOwn>();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<FlowOfItsOwn>());

        Assert.Contains("passes no IOAuthLogins", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposed_flows_take_their_providers_off_the_hosted_orchestrator()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = HostedO8.Build(HostedO8.LoopbackSettings());
        await host.StartAsync(ct);
        try
        {
            var logins = host.Services.GetRequiredService<IOAuthLogins>();
            List<string> providers = [];
            for (var i = 0; i < 3; i++)
            {
                await using var flow = new IdleFlow(logins);
                // Registers the flow's provider (and finds no account, as nobody signed in).
                await Assert.ThrowsAsync<InteractionRequiredException>(() => flow.GetAccessTokenAsync(allowInteraction: false, cancellationToken: ct));
                Assert.NotNull(await logins.GetRedirectUriAsync(flow.Account.Provider, ct));
                providers.Add(flow.Account.Provider);
            }

            foreach (var provider in providers)
                await Assert.ThrowsAsync<UnknownProviderException>(() => logins.GetRedirectUriAsync(provider, ct));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
