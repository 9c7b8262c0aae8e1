using Microsoft.Extensions.Configuration;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

public sealed class ProviderOptionsTests
{
    private static GenericOAuthOptions Valid() => ProviderTestData.Options(new Uri("https://auth.example.test/token"));

    [Fact]
    public void A_secret_is_required_unless_the_client_is_public()
    {
        var options = Valid();
        options.ClientSecret = null;

        var error = Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(options));
        Assert.Contains("ClientSecret", error.Message);
        Assert.Contains("None", error.Message);

        options.ClientAuthentication = ClientAuthentication.None;
        Assert.Equal("test", new GenericOAuthStrategy(options).Name);
    }

    [Fact]
    public void A_public_client_cannot_turn_PKCE_off_but_a_confidential_one_can()
    {
        var confidential = Valid();
        confidential.UsePkce = false;
        Assert.False(new GenericOAuthStrategy(confidential).Descriptor.SupportsPkce);

        var publicClient = Valid();
        publicClient.ClientSecret = null;
        publicClient.ClientAuthentication = ClientAuthentication.None;
        publicClient.UsePkce = false;

        var error = Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(publicClient));
        Assert.Equal(nameof(GenericOAuthOptions.UsePkce), error.ParamName);
        Assert.Contains("public client", error.Message);
    }

    [Theory]
    [InlineData("http://auth.example.test/token")]
    [InlineData("ftp://auth.example.test/token")]
    public void Endpoints_must_use_tls_off_loopback(string endpoint)
    {
        var options = Valid();
        options.TokenEndpoint = new Uri(endpoint);

        var error = Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(options));

        Assert.Contains("TokenEndpoint", error.Message);
        Assert.Contains("https", error.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/token")]
    [InlineData("http://localhost:5000/token")]
    [InlineData("http://[::1]:5000/token")]
    public void Plain_http_is_allowed_on_loopback(string endpoint)
    {
        var options = Valid();
        options.TokenEndpoint = new Uri(endpoint);

        Assert.Equal("test", new GenericOAuthStrategy(options).Name);
    }

    [Fact]
    public void Missing_name_client_id_and_endpoints_are_named()
    {
        Assert.Contains("Name", Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(new GenericOAuthOptions())).Message);

        var noClient = Valid();
        noClient.ClientId = " ";
        Assert.Contains("ClientId", Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(noClient)).Message);

        var noEndpoint = Valid();
        noEndpoint.AuthorizationEndpoint = null;
        Assert.Contains("AuthorizationEndpoint", Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(noEndpoint)).Message);
    }

    [Fact]
    public void Provider_parameters_cannot_set_protocol_parameters()
    {
        var options = Valid();
        options.AuthorizeParameters["state"] = "fixed";

        var error = Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(options));

        Assert.Contains("'state'", error.Message);
    }

    [Fact]
    public void Strategy_keeps_its_own_copy_of_the_options()
    {
        var options = Valid();
        var strategy = new GenericOAuthStrategy(options);

        options.ClientId = "changed";

        Assert.Equal("client-1", ProviderTestData.Query(strategy.BuildAuthorizeUrl(ProviderTestData.AuthorizeContext()))["client_id"]);
    }

    [Fact]
    public void Options_bind_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["P:Name"] = "corp",
            ["P:AuthorizationEndpoint"] = "https://sso.corp.test/authorize",
            ["P:TokenEndpoint"] = "https://sso.corp.test/token",
            ["P:ClientId"] = "cid",
            ["P:ClientAuthentication"] = "None",
            ["P:DefaultScopes:0"] = "a",
            ["P:DefaultScopes:1"] = "b",
            ["P:ScopeSeparator"] = ",",
            ["P:AuthorizeParameters:audience"] = "api",
            ["P:TokenRequestHeaders:Accept"] = "application/json",
        }).Build();

        var options = configuration.GetSection("P").Get<GenericOAuthOptions>()!;
        var url = new GenericOAuthStrategy(options).BuildAuthorizeUrl(ProviderTestData.AuthorizeContext());

        var query = ProviderTestData.Query(url);
        Assert.Equal("a,b", query["scope"]);
        Assert.Equal("api", query["audience"]);
        Assert.Equal(ClientAuthentication.None, options.ClientAuthentication);
        Assert.Equal("application/json", options.TokenRequestHeaders["accept"]);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("http://idp.example.test")]
    [InlineData("https://idp.example.test/?x=1")]
    public void Discovery_issuer_must_be_a_secure_absolute_url(string issuer)
    {
        var options = new OidcDiscoveryOptions { Name = "idp", Issuer = issuer, ClientId = "c" };

        var error = Assert.Throws<ArgumentException>(() => new OidcDiscoveryStrategy(options));

        Assert.Contains("Issuer", error.Message);
    }
}
