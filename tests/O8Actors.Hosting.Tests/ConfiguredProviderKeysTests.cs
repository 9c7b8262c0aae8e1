using Microsoft.Extensions.Options;
using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Every key under <c>O8:Providers:&lt;name&gt;</c> is applied or refused at start: the binder alone ignores unknown
/// keys, so a misspelt key or one a preset dropped started a provider without it.
/// </summary>
public sealed class ConfiguredProviderKeysTests
{
    [Fact]
    public async Task A_misspelt_provider_key_fails_the_start_naming_it()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize";
        settings["O8:Providers:crm:TokenEndpoint"] = "https://crm.example.com/token";
        settings["O8:Providers:crm:ClientId"] = "crm-client";
        settings["O8:Providers:crm:ClientAuthentication"] = "None";
        settings["O8:Providers:crm:Resouce"] = "https://api.crm.example.com/";
        using var host = HostedO8.Build(settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("'O8:Providers:crm'", error.Message);
        Assert.Contains("'Resouce'", error.Message);
        Assert.Contains("did you mean 'Resource'", error.Message);
    }

    [Fact]
    public void A_misspelt_key_of_a_preset_or_an_oidc_provider_is_refused()
    {
        var preset = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["g:Preset"] = "google",
            ["g:ClientId"] = "x",
            ["g:ClientSecret"] = "y",
            ["g:UseDpopp"] = "true",
        }));
        Assert.Contains("'UseDpopp'", preset.Message);
        Assert.Contains("google preset", preset.Message);
        Assert.Contains("did you mean 'UseDpop'", preset.Message);

        var oidc = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["corp:Issuer"] = "https://login.corp.example",
            ["corp:ClientId"] = "corp-client",
            ["corp:AuthorizationEndpoint"] = "https://login.corp.example/authorize",
            ["corp:Type"] = "oidc",
        }));
        Assert.Contains("'AuthorizationEndpoint'", oidc.Message);
        Assert.Contains("OpenID Connect discovery", oidc.Message);
    }

    [Fact]
    public void A_presets_resource_dpop_and_client_authentication_reach_its_options()
    {
        var strategy = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["g:Preset"] = "google",
            ["g:ClientId"] = "x",
            ["g:ClientSecret"] = "y",
            ["g:Resource"] = "https://api.example.com/",
            ["g:UseDpop"] = "true",
            ["g:ClientAuthentication"] = "Post",
            ["g:DefaultScopes:0"] = "openid",
        });

        var options = Assert.IsType<GenericOAuthStrategy>(strategy).Options;
        Assert.Equal(new Uri("https://api.example.com/"), options.Resource);
        Assert.True(options.UseDpop);
        Assert.Equal(ClientAuthentication.Post, options.ClientAuthentication);
        Assert.Equal(["openid"], options.DefaultScopes);
        // The preset's own values stay where the section does not set them.
        Assert.Equal("accounts.google.com", options.AuthorizationEndpoint!.Host);
    }

    [Fact]
    public void DefaultScopes_given_as_one_value_as_an_environment_variable_gives_it_are_split_on_whitespace()
    {
        var preset = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["github:Preset"] = "github",
            ["github:ClientId"] = "x",
            ["github:ClientSecret"] = "y",
            ["github:DefaultScopes"] = "read:user  repo",
        });
        Assert.Equal(["read:user", "repo"], Assert.IsType<GenericOAuthStrategy>(preset).Options.DefaultScopes);

        var plain = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize",
            ["crm:TokenEndpoint"] = "https://crm.example.com/token",
            ["crm:ClientId"] = "crm-client",
            ["crm:ClientAuthentication"] = "None",
            ["crm:DefaultScopes"] = "contacts.read\tdeals.read",
        });
        Assert.Equal(["contacts.read", "deals.read"], Assert.IsType<GenericOAuthStrategy>(plain).Options.DefaultScopes);

        var oidc = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["corp:Issuer"] = "https://login.corp.example",
            ["corp:ClientId"] = "corp-client",
            ["corp:DefaultScopes"] = "openid offline_access",
        });
        Assert.Equal(["openid", "offline_access"], Assert.IsType<OidcDiscoveryStrategy>(oidc).DefaultScopes);
    }

    [Fact]
    public void The_github_preset_without_ClientSecret_is_a_public_client_for_device_logins_and_with_one_posts_it()
    {
        // A distributable CLI ships no secret; GitHub's device flow needs none, so configuration must not demand one.
        var secretless = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["github:Preset"] = "github",
            ["github:ClientId"] = "cli-client",
        });
        var publicClient = Assert.IsType<GenericOAuthStrategy>(secretless).Options;
        Assert.Equal(ClientAuthentication.None, publicClient.ClientAuthentication);
        Assert.Null(publicClient.ClientSecret);
        Assert.NotNull(publicClient.DeviceAuthorizationEndpoint);

        var confidential = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["github:Preset"] = "github",
            ["github:ClientId"] = "web-client",
            ["github:ClientSecret"] = "web-secret",
        });
        Assert.Equal(ClientAuthentication.Post, Assert.IsType<GenericOAuthStrategy>(confidential).Options.ClientAuthentication);
    }

    [Fact]
    public void A_discovery_providers_MetadataRefreshInterval_is_read_from_configuration_and_defaults_to_a_day()
    {
        TimeSpan Interval(string? value)
        {
            var settings = new Dictionary<string, string?> { ["corp:Issuer"] = "https://login.corp.example", ["corp:ClientId"] = "corp-client" };
            if (value is not null) settings["corp:MetadataRefreshInterval"] = value;
            return Assert.IsType<OidcDiscoveryStrategy>(ConfiguredProviderSettings.BuildOne(settings)).MetadataRefreshInterval;
        }

        Assert.Equal(TimeSpan.FromHours(24), Interval(null));
        Assert.Equal(TimeSpan.FromHours(6), Interval("06:00:00"));
        Assert.Equal(TimeSpan.Zero, Interval("00:00:00"));
        var error = Assert.Throws<ArgumentException>(() => Interval("00:00:10"));
        Assert.Contains("MetadataRefreshInterval must be at least 1 minute", error.Message);
    }

    [Fact]
    public void IdTokenIssuerAliases_replace_a_presets_own_as_one_value_or_a_list_and_an_empty_value_clears_them()
    {
        IList<string> Aliases(params (string Key, string Value)[] extra)
        {
            var settings = new Dictionary<string, string?> { ["g:Preset"] = "google", ["g:ClientId"] = "x", ["g:ClientSecret"] = "y" };
            foreach (var (key, value) in extra) settings[$"g:{key}"] = value;
            return Assert.IsType<GenericOAuthStrategy>(ConfiguredProviderSettings.BuildOne(settings)).Options.IdTokenIssuerAliases;
        }

        Assert.Equal(["accounts.google.com"], Aliases());
        // The binder would append to the preset's list and ignore a single value; both replace it.
        Assert.Equal(["a.example", "b.example"], Aliases(("IdTokenIssuerAliases", "a.example b.example")));
        Assert.Equal(["c.example"], Aliases(("IdTokenIssuerAliases:0", "c.example")));
        Assert.Empty(Aliases(("IdTokenIssuerAliases", "")));

        // A discovery provider takes the key too (an unknown key is refused at start); what it does with it is
        // IdTokenValidationTests.A_discovered_provider_takes_the_issuer_aliases_it_is_given_...
        var oidc = ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["corp:Issuer"] = "https://login.corp.example",
            ["corp:ClientId"] = "corp-client",
            ["corp:IdTokenIssuerAliases"] = "login.corp.example",
        });
        Assert.IsType<OidcDiscoveryStrategy>(oidc);
    }

    [Fact]
    public void Tenant_is_refused_for_a_preset_other_than_microsoft()
    {
        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["g:Preset"] = "github",
            ["g:ClientId"] = "x",
            ["g:ClientSecret"] = "y",
            ["g:Tenant"] = "common",
        }));

        Assert.Contains("'Tenant' is not a setting of the github preset", error.Message);
    }
}
