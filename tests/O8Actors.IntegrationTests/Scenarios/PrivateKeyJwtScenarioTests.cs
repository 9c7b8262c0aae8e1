namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>oidc-provider with a client registered for <c>private_key_jwt</c> (its public key, no secret).</summary>
public sealed class PrivateKeyJwtFlowsFixture : FlowsFixture
{
    /// <inheritdoc />
    protected override bool UsePrivateKeyJwt => true;
}

/// <summary>
/// RFC 7523 client authentication against a real provider, through real Chromium: oidc-provider checks every assertion
/// O8Actors signs (signature by the registered key, <c>iss</c>/<c>sub</c>, <c>aud</c>, <c>exp</c>, a <c>jti</c> it has not
/// seen), for the code exchange and for a refresh.
/// </summary>
public sealed class PrivateKeyJwtScenarioTests(PrivateKeyJwtFlowsFixture fixture) : IClassFixture<PrivateKeyJwtFlowsFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_login_and_a_refresh_authenticate_with_assertions_signed_by_the_clients_key()
    {
        Assert.Equal("private_key_jwt", fixture.Client.TokenEndpointAuthMethod);
        Assert.Equal("", fixture.Client.ClientSecret); // the provider gave no secret: only the key proves the client

        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, FlowsFixture.Request("approve-private-key-jwt")).WaitAsync(Wait);
        var signedIn = Assert.IsType<LoginSucceeded>(outcome);
        var refreshesBefore = fixture.Provider.Refreshes;
        var renewed = await fixture.Flows.GetAccessTokenAsync(signedIn.Account!, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);

        Assert.NotEqual(signedIn.Tokens.AccessToken, renewed.Token);
        Assert.Equal(refreshesBefore + 1, fixture.Provider.Refreshes);
    }
}
