using O8Actors.Dpop;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// A discovery provider reads its metadata again every <see cref="OidcDiscoveryOptions.MetadataRefreshInterval"/>; the
/// token endpoint's DPoP nonce (RFC 9449 section 8) goes on across that read while the endpoint is the same. Before, the
/// read started the provider afresh, without the nonce, so the first token request after it was refused
/// <c>use_dpop_nonce</c> and sent again.
/// </summary>
public sealed class DpopNonceAcrossMetadataRefreshTests : SandboxEndpointTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    // One clock for the sandbox and the provider (the proofs' iat is checked against it); the nonce outlives the test's
    // day, so only a client that forgot it is refused.
    protected override void Configure(SandboxOptions options)
    {
        options.Dpop = SandboxDpop.Required;
        options.DpopNonceLifetime = TimeSpan.FromDays(30);
    }

    [Fact]
    public async Task The_first_token_request_after_a_metadata_refresh_carries_the_nonce_the_token_endpoint_gave_before()
    {
        var provider = new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = "sandbox", Issuer = Server.IssuerString, ClientId = Sandboxes.PublicClient, UseDpop = true,
        }, Time);
        using var key = DpopKey.Create();
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce, scope: "profile");
        var tokens = await provider.ExchangeCodeAsync(
            new CodeExchangeContext(code, pkce.Verifier, new Uri(RawOAuthClient.RedirectUri)) { DpopKey = key }, Client.Http, CancellationToken.None);
        Assert.Equal(1, Server.Counters.Errors("use_dpop_nonce"));              // the exchange learnt the nonce
        var before = await provider.ResolveAsync(Client.Http, CancellationToken.None);

        // Due: this refresh still goes out on the metadata held, and starts the read in the background.
        Time.Advance(TimeSpan.FromHours(24));
        tokens = await provider.RefreshAsync(new RefreshContext(tokens.RefreshToken!) { DpopKey = key }, Client.Http, CancellationToken.None);
        // The read is over once the provider answers with the new metadata (an equal descriptor, but another one).
        await Eventually.AssertAsync(async () => Assert.NotSame(before, await provider.ResolveAsync(Client.Http, CancellationToken.None)), Wait);

        await provider.RefreshAsync(new RefreshContext(tokens.RefreshToken!) { DpopKey = key }, Client.Http, CancellationToken.None);

        Assert.Equal(2, Server.Counters.Refreshes);
        Assert.Equal(1, Server.Counters.Errors("use_dpop_nonce"));
        Assert.Equal(4, Server.Counters.TokenRequests);                        // the exchange twice, each refresh once
    }
}
