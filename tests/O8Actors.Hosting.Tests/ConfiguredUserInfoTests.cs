using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary><c>O8:Providers:&lt;name&gt;:UserInfoEndpoint</c> (OpenID Connect Core 1.0 section 5.3) binds to the provider, and one in clear text off loopback is refused.</summary>
public sealed class ConfiguredUserInfoTests
{
    private static Dictionary<string, string?> Crm(string userInfo) => new()
    {
        ["crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize",
        ["crm:TokenEndpoint"] = "https://crm.example.com/token",
        ["crm:ClientId"] = "crm-client",
        ["crm:ClientSecret"] = "from-user-secrets",
        ["crm:UserInfoEndpoint"] = userInfo,
    };

    [Fact]
    public void A_configured_userinfo_endpoint_is_the_providers()
    {
        var strategy = Assert.IsType<GenericOAuthStrategy>(ConfiguredProviderSettings.BuildOne(Crm("https://crm.example.com/me")));

        Assert.Equal(new Uri("https://crm.example.com/me"), strategy.Options.UserInfoEndpoint);
    }

    [Fact]
    public void A_userinfo_endpoint_in_clear_text_off_loopback_is_refused_naming_the_provider()
    {
        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(Crm("http://crm.example.com/me")));

        Assert.Contains("'O8:Providers:crm'", error.Message);
        Assert.Contains("UserInfoEndpoint", error.Message);
    }
}
