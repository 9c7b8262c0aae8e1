using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

public sealed class AuthorizeUrlTests
{
    private static GenericOAuthStrategy Strategy(Action<GenericOAuthOptions>? change = null)
    {
        var options = Options(new Uri("https://auth.example.test/token"));
        options.DefaultScopes = ["read", "write"];
        options.AuthorizeParameters["prompt"] = "consent";
        change?.Invoke(options);
        return new GenericOAuthStrategy(options);
    }

    [Fact]
    public void Carries_every_required_parameter_exactly_as_given()
    {
        var url = Strategy().BuildAuthorizeUrl(AuthorizeContext());

        Assert.Equal("https://auth.example.test/authorize", url.GetLeftPart(UriPartial.Path));
        Assert.Equal(new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = "client-1",
            ["redirect_uri"] = "https://localhost:41539/callback/",
            ["scope"] = "read write",
            ["state"] = State,
            ["code_challenge"] = Challenge,
            ["code_challenge_method"] = "S256",
            ["prompt"] = "consent",
        }, Query(url));
        // Spaces are percent-encoded, not '+', which some servers would keep literally.
        Assert.Contains("scope=read%20write", url.AbsoluteUri);
    }

    [Fact]
    public void Leaves_pkce_out_when_no_challenge_is_given()
    {
        var query = Query(Strategy().BuildAuthorizeUrl(AuthorizeContext(challenge: null)));

        Assert.False(query.ContainsKey("code_challenge"));
        Assert.False(query.ContainsKey("code_challenge_method"));
    }

    [Fact]
    public void Requested_scopes_replace_the_defaults_and_use_the_provider_separator()
    {
        var url = Strategy(o => o.ScopeSeparator = ",").BuildAuthorizeUrl(AuthorizeContext(scopes: ["a", "b:c"]));

        Assert.Equal("a,b:c", Query(url)["scope"]);
    }

    [Fact]
    public void No_scope_parameter_when_neither_defaults_nor_request_name_one()
    {
        var url = Strategy(o => o.DefaultScopes.Clear()).BuildAuthorizeUrl(AuthorizeContext());

        Assert.False(Query(url).ContainsKey("scope"));
    }

    [Fact]
    public void Caller_extra_parameters_win_over_the_provider_ones()
    {
        var extra = new Dictionary<string, string> { ["prompt"] = "select_account", ["login_hint"] = "a@b.c" };

        var query = Query(Strategy().BuildAuthorizeUrl(AuthorizeContext(extra: extra)));

        Assert.Equal("select_account", query["prompt"]);
        Assert.Equal("a@b.c", query["login_hint"]);
    }

    [Theory]
    [InlineData("state")]
    [InlineData("redirect_uri")]
    [InlineData("code_challenge_method")]
    [InlineData("scope")]
    [InlineData("Redirect_Uri")] // any casing: a server that reads the query without regard to case takes it as redirect_uri
    [InlineData("STATE")]
    public void Extra_parameters_cannot_replace_protocol_parameters(string key)
    {
        var extra = new Dictionary<string, string> { [key] = "evil" };

        var error = Assert.Throws<ArgumentException>(() => Strategy().BuildAuthorizeUrl(AuthorizeContext(extra: extra)));

        Assert.Contains($"'{key}'", error.Message);
    }

    [Theory]
    [InlineData("request")]
    [InlineData("request_uri")]
    [InlineData("Request")]
    [InlineData("REQUEST_URI")]
    public void Neither_a_login_nor_a_provider_may_send_a_request_object_that_would_replace_the_protected_parameters(string key)
    {
        // An app that passes a user's query values on as extras would otherwise let the user send an unsigned request
        // object with his own state, PKCE challenge and redirect URI, which a provider supporting RFC 9101 takes instead.
        var extra = new Dictionary<string, string> { [key] = "eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwifQ." };

        var login = Assert.Throws<ArgumentException>(() => Strategy().BuildAuthorizeUrl(AuthorizeContext(extra: extra)));
        var provider = Assert.Throws<ArgumentException>(() => Strategy(o => o.AuthorizeParameters[key] = "urn:x"));

        Assert.Contains($"'{key}'", login.Message);
        Assert.Contains("request object", provider.Message);
    }

    [Theory]
    [InlineData("form_post")]
    [InlineData("fragment")]
    [InlineData("query.jwt")]
    [InlineData("form_post.jwt")]
    public void A_response_mode_that_would_send_the_code_past_the_listener_is_refused(string mode)
    {
        var extra = new Dictionary<string, string> { ["response_mode"] = mode };

        var error = Assert.Throws<ArgumentException>(() => Strategy().BuildAuthorizeUrl(AuthorizeContext(extra: extra)));
        Assert.Contains("'response_mode'", error.Message);
        Assert.Throws<ArgumentException>(() => Strategy(o => o.AuthorizeParameters["response_mode"] = mode));
    }

    [Theory]
    [InlineData("Response_Mode")]
    [InlineData("RESPONSE_MODE")]
    public void A_response_mode_in_another_casing_is_refused_too(string key)
    {
        var extra = new Dictionary<string, string> { [key] = "form_post" };

        Assert.Throws<ArgumentException>(() => Strategy().BuildAuthorizeUrl(AuthorizeContext(extra: extra)));
    }

    [Fact]
    public void Response_mode_query_the_default_is_passed_on()
    {
        var extra = new Dictionary<string, string> { ["response_mode"] = "query" };

        Assert.Equal("query", Query(Strategy().BuildAuthorizeUrl(AuthorizeContext(extra: extra)))["response_mode"]);
    }

    [Fact]
    public void Keeps_a_query_the_endpoint_already_has()
    {
        var strategy = Strategy(o => o.AuthorizationEndpoint = new Uri("https://auth.example.test/authorize?tenant=x"));

        var query = Query(strategy.BuildAuthorizeUrl(AuthorizeContext()));

        Assert.Equal("x", query["tenant"]);
        Assert.Equal(State, query["state"]);
    }

    [Theory]
    [InlineData("https://auth.example.test/authorize?", "https://auth.example.test/authorize?response_type=code&")]
    [InlineData("https://auth.example.test/authorize?tenant=x&", "https://auth.example.test/authorize?tenant=x&response_type=code&")]
    public void An_endpoint_query_that_ends_in_a_separator_gets_no_empty_parameter(string endpoint, string expectedStart)
    {
        var strategy = Strategy(o => o.AuthorizationEndpoint = new Uri(endpoint));

        var url = strategy.BuildAuthorizeUrl(AuthorizeContext());

        Assert.StartsWith(expectedStart, url.AbsoluteUri, StringComparison.Ordinal);
        Assert.DoesNotContain("&&", url.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public void A_url_carries_nothing_of_the_one_built_before_it()
    {
        // The builder's buffer is reused between logins: the second URL must be built from scratch.
        var strategy = Strategy();
        var first = strategy.BuildAuthorizeUrl(AuthorizeContext(extra: new Dictionary<string, string> { ["login_hint"] = "first@example.test" }));
        var second = strategy.BuildAuthorizeUrl(AuthorizeContext(scopes: ["b"]) with { State = "second-state" });

        Assert.Contains("login_hint", first.Query, StringComparison.Ordinal);
        var query = Query(second);
        Assert.False(query.ContainsKey("login_hint"));
        Assert.Equal("second-state", query["state"]);
        Assert.Equal("b", query["scope"]);
        Assert.Equal(second.AbsoluteUri.Length, second.AbsoluteUri.TrimEnd('&').Length);
    }
}
