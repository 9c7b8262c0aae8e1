namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>oidc-provider advertising pushed authorization requests (RFC 9126), not requiring them.</summary>
public sealed class ParOptionalFixture() : FlowsFixture(null, "optional");

/// <summary>oidc-provider requiring pushed authorization requests: a plain authorize URL is refused.</summary>
public sealed class ParRequiredFixture() : FlowsFixture(null, "required");

/// <summary>
/// Pushed authorization requests (RFC 9126) against oidc-provider: O8Actors reads the endpoint from discovery, pushes each
/// login's parameters with its client authentication, and Chromium opens a URL with only <c>client_id</c> and
/// <c>request_uri</c>; the login completes as usual. A refused push fails the login, with no fallback to a plain URL.
/// </summary>
public abstract class PushedAuthorizationInteropTests<TFixture>(TFixture fixture) where TFixture : FlowsFixture
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_login_pushes_its_request_and_Chromium_opens_a_URL_with_only_client_id_and_request_uri()
    {
        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, FlowsFixture.Request("par-user")).WaitAsync(Wait);

        var succeeded = Assert.IsType<LoginSucceeded>(outcome is LoginFailed f ? throw new Xunit.Sdk.XunitException(f.Reason) : outcome);
        Assert.True(await fixture.Provider.IsActiveAsync(fixture.Client, succeeded.Tokens.AccessToken));
        Assert.NotNull(succeeded.Tokens.IdTokenClaims); // the nonce went through the push and came back in the ID token
        var opened = Assert.Single(fixture.Driver.Launches).AuthorizeUrl;
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(opened.Query);
        Assert.Equal(["client_id", "request_uri"], query.Keys.Order());
        Assert.Equal(fixture.Client.ClientId, query["client_id"].ToString());
        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", query["request_uri"].ToString());
        Assert.Equal(new Uri(fixture.Provider.Issuer, "/auth").AbsoluteUri, opened.GetLeftPart(UriPartial.Path));
    }

    [Fact]
    public async Task A_refused_push_fails_the_login_with_the_providers_error_and_opens_no_browser()
    {
        var launchesBefore = fixture.Driver.Launches.Count;
        var request = FlowsFixture.Request("par-refused") with
        {
            ExtraParameters = new Dictionary<string, string> { ["login_hint"] = "par-refused", ["prompt"] = "no-such-prompt" },
        };

        var outcome = await fixture.Flows.RunAsync(FlowsFixture.ProviderName, request).WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.Contains("pushed authorization request (RFC 9126)", failed.Reason);
        Assert.Contains("invalid_request", failed.Reason);
        Assert.Contains("did not fall back", failed.Reason);
        Assert.Equal(launchesBefore, fixture.Driver.Launches.Count);
    }
}

/// <summary>PAR advertised, not required.</summary>
public sealed class PushedAuthorizationOptionalTests(ParOptionalFixture fixture)
    : PushedAuthorizationInteropTests<ParOptionalFixture>(fixture), IClassFixture<ParOptionalFixture>;

/// <summary>PAR required.</summary>
public sealed class PushedAuthorizationRequiredTests(ParRequiredFixture fixture)
    : PushedAuthorizationInteropTests<ParRequiredFixture>(fixture), IClassFixture<ParRequiredFixture>;
