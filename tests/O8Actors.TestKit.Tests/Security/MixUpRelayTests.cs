using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Security;

/// <summary>
/// The mix-up attack of RFC 9700 section 4.4, played with two sandbox servers: a malicious provider registered beside an
/// honest one relays the user to the honest authorization server with its own login's state and challenge, hoping the
/// honest code comes back to its login and is redeemed at its token endpoint.
/// </summary>
public sealed class MixUpRelayTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Providers_sharing_a_redirect_path_are_told_apart_by_iss_and_the_relayed_code_is_never_redeemed()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var attacker = await SandboxAuthorizationServer.StartAsync();
        // The malicious provider names no issuer (as GitHub, Microsoft common or a generic provider do not) and shares the
        // honest provider's redirect path (an app that configured one path for all). It sends the user to the honest
        // authorize endpoint with the honest client's id and redirect URI (the relay), and keeps its own token endpoint.
        await o8.Logins.RegisterProviderAsync(new RelayingStrategy("attacker", o8.Sandbox.AuthorizationEndpoint, o8.Client.ClientId, o8.RedirectUri,
            attacker.TokenEndpoint, sharedPath: o8.RedirectUri.AbsolutePath));

        var relayed = await o8.Logins.RunAsync("attacker", o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        // The honest server issued a code and named itself in iss; the attacker's login refused it before any exchange.
        var failed = Assert.IsType<LoginFailed>(relayed);
        Assert.Equal(LoginFailure.IssuerMismatch, failed.Failure);
        Assert.Contains(o8.Sandbox.IssuerString, failed.Reason);
        Assert.Equal(1, o8.Sandbox.Counters.CodesIssued);
        Assert.Equal(0, attacker.Counters.TokenRequests);
        Assert.Equal(0, o8.Sandbox.Counters.TokenRequests);

        var honest = await o8.AuthorizeAsync(LoginScript.Approve("alice")).WaitAsync(Wait);
        Assert.True(o8.Sandbox.IsActive(honest.AccessToken));
        Assert.Equal(0, attacker.Counters.TokenRequests);
    }

    [Fact]
    public async Task Without_iss_the_providers_own_redirect_path_stops_the_relay_before_any_exchange()
    {
        // The honest provider sends no iss (as GitHub does not), so only the redirect path tells its response apart.
        await using var o8 = await O8TestHarness.StartAsync(new O8TestHarnessOptions { ConfigureSandbox = s => s.SendIssuerParameter = false });
        await using var attacker = await SandboxAuthorizationServer.StartAsync();
        await o8.Logins.RegisterProviderAsync(new RelayingStrategy("attacker", o8.Sandbox.AuthorizationEndpoint, o8.Client.ClientId, o8.RedirectUri,
            attacker.TokenEndpoint));
        var attackerPath = (await o8.Logins.GetRedirectUriAsync("attacker")).AbsolutePath;
        Assert.NotEqual(o8.RedirectUri.AbsolutePath, attackerPath);

        var relayed = await o8.Logins.RunAsync("attacker", o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        // The honest server approved and sent its code (without iss) to its own redirect URI; the attacker's login, whose
        // state it carried, refused it there: its path is not the attacker's.
        var failed = Assert.IsType<LoginFailed>(relayed);
        Assert.Equal(LoginFailure.RedirectMismatch, failed.Failure);
        Assert.Contains(o8.RedirectUri.AbsolutePath, failed.Reason);
        Assert.Equal(1, o8.Sandbox.Counters.CodesIssued);
        Assert.Equal(0, attacker.Counters.TokenRequests);
        Assert.Equal(0, o8.Sandbox.Counters.TokenRequests);
        await Assert.ThrowsAsync<RedirectMismatchException>(() =>
            o8.Logins.AuthorizeAsync("attacker", o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait));

        var honest = await o8.AuthorizeAsync(LoginScript.Approve("alice")).WaitAsync(Wait);
        Assert.True(o8.Sandbox.IsActive(honest.AccessToken));
        Assert.Equal(0, attacker.Counters.TokenRequests);
    }

    /// <summary>
    /// The malicious provider of the relay: it sends the user to the honest authorization server with the honest client's
    /// id and redirect URI, and its own login's state and challenge, and redeems codes at its own token endpoint.
    /// </summary>
    private sealed class RelayingStrategy(string name, Uri honestAuthorize, string honestClientId, Uri honestRedirect, Uri ownTokenEndpoint,
        string? sharedPath = null) : ProviderStrategy
    {
        private readonly GenericOAuthStrategy _own = new(new GenericOAuthOptions
        {
            Name = name,
            AuthorizationEndpoint = honestAuthorize,
            TokenEndpoint = ownTokenEndpoint,
            ClientId = honestClientId,
            ClientAuthentication = O8Actors.Providers.ClientAuthentication.None,
        });

        public override string Name => name;

        public override string? RedirectPath => sharedPath;

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) =>
            _own.BuildAuthorizeUrl(context with { RedirectUri = honestRedirect, Scopes = ["openid"] });

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            _own.ExchangeCodeAsync(context, http, cancellationToken);
    }
}
