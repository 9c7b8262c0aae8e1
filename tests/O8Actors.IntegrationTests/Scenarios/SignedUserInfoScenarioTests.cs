using System.Net;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>The flows fixture with its client registered for signed UserInfo responses (<c>userinfo_signed_response_alg=RS256</c>).</summary>
public sealed class SignedUserInfoFixture : FlowsFixture
{
    protected override string? UserInfoSigningAlgorithm => "RS256";
}

/// <summary>
/// A provider that signs its UserInfo responses (OpenID Connect Core 1.0 section 5.3.2): oidc-provider answers this
/// client with <c>application/jwt</c>, and O8Actors verifies the response with the key set it validates ID tokens with
/// (found through discovery) before it reads the claims.
/// </summary>
public sealed class SignedUserInfoScenarioTests(SignedUserInfoFixture fixture) : IClassFixture<SignedUserInfoFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_signed_UserInfo_response_is_verified_and_its_claims_read()
    {
        var request = FlowsFixture.Request("approve-signed-userinfo") with { Scopes = ["openid", "offline_access", "profile"] };
        var account = Assert.IsType<LoginSucceeded>(await fixture.Flows.RunAsync(FlowsFixture.ProviderName, request).WaitAsync(Wait)).Account!;

        // The endpoint really answers this client with a JWT, not JSON.
        using (var api = new HttpClient(new AccessTokenHandler(fixture.Flows, account) { InnerHandler = new HttpClientHandler() }))
        using (var raw = await api.GetAsync(fixture.Provider.UserInfoEndpoint).WaitAsync(Wait))
        {
            Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
            Assert.Equal("application/jwt", raw.Content.Headers.ContentType?.MediaType);
        }

        var info = await fixture.Flows.GetUserInfoAsync(account).WaitAsync(Wait);

        Assert.Equal(account, info.Account);
        Assert.Equal("approve-signed-userinfo", info.Subject);
        Assert.Equal("approve-signed-userinfo", info.Name);
        // The signed form's own claims: the issuer and this client as its audience, checked before the claims were used.
        Assert.Contains(info.All, c => c.Type == "iss" && c.Value == fixture.Provider.IssuerString);
        Assert.Contains(info.All, c => c.Type == "aud" && c.Value == fixture.Client.ClientId);
    }
}
