using O8Actors.Dpop;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// A discovery provider reads its metadata again every <see cref="OidcDiscoveryOptions.MetadataRefreshInterval"/>; the
/// DPoP nonces (RFC 9449 section 8) of its token and UserInfo endpoints go on across that read while each endpoint is the
/// same. Before, the read started the provider afresh, without them, so the first token request (and, later, the first
/// UserInfo call) after it was refused <c>use_dpop_nonce</c> and sent again.
/// </summary>
public sealed class DpopNonceAcrossMetadataRefreshTests : SandboxEndpointTest, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly DpopKey _key = DpopKey.Create();
    private OidcDiscoveryStrategy? _provider;

    // Made on first use: the sandbox, and so its issuer, starts after the constructor.
    private OidcDiscoveryStrategy Provider => _provider ??= new OidcDiscoveryStrategy(new OidcDiscoveryOptions
    {
        Name = "sandbox", Issuer = Server.IssuerString, ClientId = Sandboxes.PublicClient, UseDpop = true,
    }, Time);

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
        var tokens = await SignInAsync();
        Assert.Equal(1, Server.Counters.Errors("use_dpop_nonce"));              // the exchange learnt the nonce

        tokens = await RefreshAcrossMetadataReadAsync(tokens);
        await Provider.RefreshAsync(new RefreshContext(tokens.RefreshToken!) { DpopKey = _key }, Client.Http, CancellationToken.None);

        Assert.Equal(2, Server.Counters.Refreshes);
        Assert.Equal(1, Server.Counters.Errors("use_dpop_nonce"));
        Assert.Equal(4, Server.Counters.TokenRequests);                        // the exchange twice, each refresh once
    }

    [Fact]
    public async Task The_first_UserInfo_call_after_a_metadata_refresh_carries_the_nonce_the_UserInfo_endpoint_gave_before()
    {
        var tokens = await SignInAsync();
        await FetchUserInfoAsync(tokens);
        Assert.Equal(2, Server.Counters.Errors("use_dpop_nonce"));              // the exchange and the UserInfo call learnt it

        tokens = await RefreshAcrossMetadataReadAsync(tokens);                // the token endpoint's nonce went on (above)
        await FetchUserInfoAsync(tokens);

        Assert.Equal(2, Server.Counters.Errors("use_dpop_nonce"));
        Assert.Equal(3, Server.Counters.UserInfoRequests);                     // the first call twice, the one after the read once
    }

    /// <summary>A login's code exchanged by the provider for tokens bound to <see cref="_key"/>.</summary>
    private async Task<TokenSet> SignInAsync()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);
        return await Provider.ExchangeCodeAsync(
            new CodeExchangeContext(code, pkce.Verifier, new Uri(RawOAuthClient.RedirectUri)) { DpopKey = _key }, Client.Http, CancellationToken.None);
    }

    /// <summary>
    /// A day later (the metadata due, the access token expired): a refresh that still goes out on the metadata held and
    /// starts the read in the background; returns its tokens once the provider answers with the new metadata.
    /// </summary>
    private async Task<TokenSet> RefreshAcrossMetadataReadAsync(TokenSet tokens)
    {
        var before = await Provider.ResolveAsync(Client.Http, CancellationToken.None);
        Time.Advance(TimeSpan.FromHours(24));
        tokens = await Provider.RefreshAsync(new RefreshContext(tokens.RefreshToken!) { DpopKey = _key }, Client.Http, CancellationToken.None);
        // The read is over once the provider answers with the new metadata (an equal descriptor, but another one).
        await Eventually.AssertAsync(async () => Assert.NotSame(before, await Provider.ResolveAsync(Client.Http, CancellationToken.None)), Wait);
        return tokens;
    }

    private Task<System.Text.Json.JsonElement?> FetchUserInfoAsync(TokenSet tokens) =>
        Provider.FetchUserInfoAsync(new UserInfoContext(tokens.AccessToken, tokens.TokenType) { DpopKey = _key }, Client.Http, CancellationToken.None);

    public void Dispose() => _key.Dispose();
}
