using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary><c>O8:Providers:&lt;name&gt;:EndSessionEndpoint</c> (OpenID Connect RP-Initiated Logout) binds to the provider, and one in clear text off loopback is refused.</summary>
public sealed class ConfiguredEndSessionTests
{
    private static Dictionary<string, string?> Crm(string endSession) => new()
    {
        ["crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize",
        ["crm:TokenEndpoint"] = "https://crm.example.com/token",
        ["crm:ClientId"] = "crm-client",
        ["crm:ClientSecret"] = "from-user-secrets",
        ["crm:EndSessionEndpoint"] = endSession,
    };

    [Fact]
    public async Task A_configured_end_session_endpoint_is_where_the_providers_sign_out_goes()
    {
        var strategy = Assert.IsType<GenericOAuthStrategy>(ConfiguredProviderSettings.BuildOne(Crm("https://crm.example.com/logout")));
        using var http = new HttpClient();

        var url = await strategy.BuildEndSessionUrlAsync(new EndSessionContext("s", new Uri("https://localhost:41539/crm"), null), http, CancellationToken.None);

        Assert.StartsWith("https://crm.example.com/logout?client_id=crm-client&post_logout_redirect_uri=https%3A%2F%2Flocalhost%3A41539%2Fcrm&state=s", url!.AbsoluteUri);
    }

    [Fact]
    public void An_end_session_endpoint_in_clear_text_off_loopback_is_refused_naming_the_provider()
    {
        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(Crm("http://crm.example.com/logout")));

        Assert.Contains("'O8:Providers:crm'", error.Message);
        Assert.Contains("EndSessionEndpoint", error.Message);
    }
}
