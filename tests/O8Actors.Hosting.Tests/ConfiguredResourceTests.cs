using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary><c>O8:Providers:&lt;name&gt;:Resource</c> (RFC 8707) binds to the provider, and one that is not absolute is refused naming the provider.</summary>
public sealed class ConfiguredResourceTests
{
    [Fact]
    public void A_configured_resource_is_the_providers_resource()
    {
        var strategy = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize",
            ["crm:TokenEndpoint"] = "https://crm.example.com/token",
            ["crm:ClientId"] = "crm-client",
            ["crm:ClientSecret"] = "from-user-secrets",
            ["crm:Resource"] = "https://api.crm.example.com/",
        });

        var url = Assert.IsType<GenericOAuthStrategy>(strategy).BuildAuthorizeUrl(new AuthorizeUrlContext(
            "state-1", null, new Uri("https://localhost:41539/crm"), [], new Dictionary<string, string>(), ProviderDescriptor.Static));

        Assert.Equal(new Uri("https://api.crm.example.com/"), ((GenericOAuthStrategy)strategy).Options.Resource);
        Assert.Contains("resource=https%3A%2F%2Fapi.crm.example.com%2F", url.AbsoluteUri);
    }

    [Fact]
    public void A_relative_resource_is_refused_naming_the_provider()
    {
        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["corp:Issuer"] = "https://login.corp.example",
            ["corp:ClientId"] = "corp-client",
            ["corp:Resource"] = "/orders",
        }));

        Assert.Contains("'O8:Providers:corp'", error.Message);
        Assert.Contains("RFC 8707", error.Message);
    }
}
