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
    public async Task A_relayed_honest_code_never_reaches_the_attackers_token_endpoint_and_the_honest_login_still_works()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        await using var attacker = await SandboxAuthorizationServer.StartAsync();
        // The malicious provider names no issuer (as GitHub, Microsoft common or a generic provider do not), sends the
        // user to the honest authorize endpoint with the honest client's id (the relay), and keeps its own token endpoint.
        await o8.Logins.RegisterProviderAsync(new GenericOAuthStrategy(new GenericOAuthOptions
        {
            Name = "attacker",
            AuthorizationEndpoint = o8.Sandbox.AuthorizationEndpoint,
            TokenEndpoint = attacker.TokenEndpoint,
            ClientId = o8.Client.ClientId,
            ClientAuthentication = O8Actors.Providers.ClientAuthentication.None,
            DefaultScopes = ["openid"],
        }));

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
}
