using Microsoft.AspNetCore.WebUtilities;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>The logout request URL (OpenID Connect RP-Initiated Logout 1.0, section 2) and where its endpoint comes from.</summary>
public sealed class EndSessionUrlTests
{
    private static readonly Uri PostLogout = new("https://localhost:41539/github");

    [Fact]
    public void The_url_carries_the_client_the_hint_the_post_logout_uri_exactly_and_the_state()
    {
        var url = EndSessionUrlBuilder.Build(new Uri("https://id.example/logout"), "the client",
            new EndSessionContext("st-1", PostLogout, "header.payload.signature"));

        Assert.Equal("https://id.example/logout", url.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(url.Query);
        Assert.Equal(["client_id", "id_token_hint", "post_logout_redirect_uri", "state"], query.Keys.ToArray());
        Assert.Equal("the client", query["client_id"].ToString());
        Assert.Equal("header.payload.signature", query["id_token_hint"].ToString());
        Assert.Equal("https://localhost:41539/github", query["post_logout_redirect_uri"].ToString());
        Assert.Equal("st-1", query["state"].ToString());
    }

    [Fact]
    public void Without_an_id_token_the_hint_is_left_out_and_a_query_of_the_endpoint_is_kept()
    {
        var url = EndSessionUrlBuilder.Build(new Uri("https://id.example/v2/logout?tenant=t1"), "c", new EndSessionContext("s", PostLogout, null));

        var query = QueryHelpers.ParseQuery(url.Query);
        Assert.Equal("t1", query["tenant"].ToString());
        Assert.False(query.ContainsKey("id_token_hint"));
        Assert.Equal("s", query["state"].ToString());
    }

    [Fact]
    public void The_context_never_prints_the_id_token()
    {
        var context = new EndSessionContext("the-state", PostLogout, "eyJ.secret.token");

        Assert.DoesNotContain("eyJ.secret.token", context.ToString());
        Assert.DoesNotContain("the-state", context.ToString());
    }

    [Fact]
    public async Task A_generic_provider_builds_the_url_of_its_configured_endpoint_and_none_without_one()
    {
        var options = ProviderTestData.Options(new Uri("https://provider.test/token"));
        options.EndSessionEndpoint = new Uri("https://provider.test/logout");
        var with = new GenericOAuthStrategy(options);
        var without = new GenericOAuthStrategy(ProviderTestData.Options(new Uri("https://provider.test/token")));
        var context = new EndSessionContext("s", PostLogout, null);
        using var http = new HttpClient();

        var url = await with.BuildEndSessionUrlAsync(context, http, CancellationToken.None);
        Assert.StartsWith("https://provider.test/logout?client_id=client-1&post_logout_redirect_uri=", url!.AbsoluteUri);
        Assert.Null(await without.BuildEndSessionUrlAsync(context, http, CancellationToken.None));
        // What a sign-out on a listener that has not bound yet asks first.
        Assert.True(await with.HasEndSessionEndpointAsync(http, CancellationToken.None));
        Assert.False(await without.HasEndSessionEndpointAsync(http, CancellationToken.None));
    }

    [Theory]
    [InlineData("http://provider.example/logout")]
    [InlineData("https://provider.example/logout#fragment")]
    [InlineData("/logout")]
    public void An_end_session_endpoint_must_be_https_or_loopback_http(string endpoint)
    {
        var options = ProviderTestData.Options(new Uri("https://provider.test/token"));
        options.EndSessionEndpoint = new Uri(endpoint, UriKind.RelativeOrAbsolute);

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("EndSessionEndpoint", error.Message);
    }
}
