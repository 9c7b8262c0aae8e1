using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// The values of <c>O8:Providers:&lt;name&gt;</c> mean one thing or fail the start naming their key: a list set in two
/// forms by two configuration sources, a duration without its unit, a provider <c>Type</c> that is none.
/// </summary>
public sealed class ConfiguredProviderValuesTests
{
    [Fact]
    public async Task DefaultScopes_as_a_list_in_appsettings_and_as_one_value_in_an_environment_variable_fail_the_start_naming_the_key()
    {
        // The README's environment-variable form over an appsettings.json list: configuration keeps both, and the list
        // (the lower-priority source) was what the provider got.
        const string appsettings = """
            { "O8": { "Providers": { "github": {
                "Preset": "github", "ClientId": "gh-client", "ClientSecret": "gh-secret-value", "DefaultScopes": [ "read:user" ] } } } }
            """;
        var prefix = $"O8TEST{Guid.NewGuid():N}_";
        var variable = prefix + "O8__Providers__github__DefaultScopes";
        Environment.SetEnvironmentVariable(variable, "read:user repo");
        try
        {
            using var host = HostedO8.Build(HostedO8.LoopbackSettings(), configuration: c => c
                .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(appsettings)))
                .AddEnvironmentVariables(prefix));

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

            Assert.Contains("'O8:Providers:github:DefaultScopes' is set both as one value and as a list", error.Message, StringComparison.Ordinal);
            Assert.Contains("set one form: one value of entries separated by spaces, or a list (DefaultScopes:0", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("gh-secret-value", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    /// <summary>
    /// appsettings.json names the providers; the deployment adds their secrets and an override in upper-case environment
    /// variables, as Unix and Kubernetes write them. Configuration merges the keys ignoring case and spells them as the
    /// environment does: the provider was registered as 'GITHUB' (every call by 'github', its callback path and its
    /// back-channel address missed it) and the step-up 'acr_values' became 'ACR_VALUES', which no provider reads, without
    /// a word. The start fails now, naming both spellings.
    /// </summary>
    [Theory]
    [InlineData("O8__PROVIDERS__GITHUB__CLIENTSECRET", "gh-secret-value", "the provider 'github'", "'GITHUB'")]
    [InlineData("O8__Providers__corp__AuthorizeParameters__ACR_VALUES", "urn:phr", "the authorize parameter 'acr_values'", "'ACR_VALUES'")]
    public async Task A_key_two_sources_spell_in_different_case_fails_the_start_naming_both_spellings(string variableName, string value, string first, string second)
    {
        const string appsettings = """
            { "O8": { "Providers": {
                "github": { "Preset": "github", "ClientId": "gh-client" },
                "corp": { "Issuer": "https://login.corp.example", "ClientId": "corp-client", "AuthorizeParameters": { "acr_values": "urn:mfa" } } } } }
            """;
        var prefix = $"O8TEST{Guid.NewGuid():N}_";
        var variable = prefix + variableName;
        Environment.SetEnvironmentVariable(variable, value);
        try
        {
            using var host = HostedO8.Build(HostedO8.LoopbackSettings(), configuration: c => c
                .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(appsettings)))
                .AddEnvironmentVariables(prefix));

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

            Assert.Contains($"has {first}", error.Message, StringComparison.Ordinal);
            Assert.Contains($"and {second} (EnvironmentVariablesConfigurationProvider", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    /// <summary>
    /// What the spelling of a key does not name may be spelled any way: a limit under O8:Providers (read ignoring case),
    /// and a provider whose Name is set.
    /// </summary>
    [Fact]
    public void A_limit_or_a_provider_with_its_own_Name_may_be_spelled_differently_by_two_sources()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["O8:Providers:MaxConcurrentExchanges"] = "32",
                ["O8:Providers:entra:Name"] = "Entra",
                ["O8:Providers:entra:Issuer"] = "https://login.corp.example",
                ["O8:Providers:entra:ClientId"] = "entra-client",
            })
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["O8:PROVIDERS:MAXCONCURRENTEXCHANGES"] = "64",
                ["O8:PROVIDERS:ENTRA:CLIENTSECRET"] = "entra-secret",
            })
            .Build();

        var provider = Assert.Single(ConfiguredProviders.Build(configuration.GetSection("O8:Providers"), root: configuration));

        Assert.Equal("Entra", provider.Name);
    }

    /// <summary>A known authorize parameter in other case, from one source, is refused with the spelling providers read.</summary>
    [Fact]
    public void An_authorize_parameter_that_is_a_known_one_in_other_case_is_refused_with_its_spelling()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["O8:Providers:corp:Issuer"] = "https://login.corp.example",
            ["O8:Providers:corp:ClientId"] = "corp-client",
            ["O8:Providers:corp:AuthorizeParameters:Max_Age"] = "300",
        }).Build();

        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviders.Build(configuration.GetSection("O8:Providers")));

        Assert.Contains("'Max_Age', which providers read as 'max_age'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Issuer": "https://login.corp.example", "ClientId": "corp-client" }""")]
    [InlineData("""{ "AuthorizationEndpoint": "https://crm.example.com/authorize", "TokenEndpoint": "https://crm.example.com/token", "ClientId": "crm", "ClientAuthentication": "None" }""")]
    [InlineData("""{ "Preset": "google", "ClientId": "g-client", "ClientSecret": "g-secret" }""")]
    public void IdTokenIssuerAliases_in_both_forms_from_two_sources_are_refused_for_every_kind_of_provider(string provider)
    {
        var json = $$"""{ "O8": { "Providers": { "p": {{provider[..^1]}}, "IdTokenIssuerAliases": [ "a.example" ] } } } }""";
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)))
            .AddInMemoryCollection(new Dictionary<string, string?> { ["O8:Providers:p:IdTokenIssuerAliases"] = "b.example" })
            .Build();

        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviders.Build(configuration.GetSection("O8:Providers")));

        Assert.Contains("'O8:Providers:p:IdTokenIssuerAliases' is set both as one value and as a list", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("corp", "IdTokenClockSkew", "0:30")]        // half an hour to TimeSpan.Parse: under the 1-hour cap, so accepted
    [InlineData("corp", "MetadataRefreshInterval", "12")]   // 12 days
    [InlineData("crm", "IdTokenClockSkew", "90")]           // 90 days
    [InlineData("g", "IdTokenClockSkew", "0:30")]           // a preset's options too
    public void A_provider_duration_without_its_unit_is_refused_naming_the_key_and_the_forms_the_O8_section_takes(string provider, string key, string value)
    {
        var settings = Provider(provider);
        settings[$"{provider}:{key}"] = value;

        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(settings));

        Assert.Contains($"'O8:Providers:{provider}:{key}': '{value}' is not a duration with its unit", error.Message, StringComparison.Ordinal);
        Assert.Contains("120s", error.Message, StringComparison.Ordinal);
        Assert.Contains("00:02:00", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("corp", "AuthorizeParameters", "acr_values=urn:mfa")] // discovery
    [InlineData("crm", "TokenRequestHeaders", "Accept: application/json")] // plain
    [InlineData("g", "AuthorizeParameters", "prompt=consent")] // preset
    public void A_map_given_one_value_is_refused_naming_the_key_and_its_section_form(string provider, string key, string value)
    {
        var settings = Provider(provider);
        settings[$"{provider}:{key}"] = value;

        // The binder drops it without a word: the provider would start without the parameter or header it was meant to send.
        var error = Assert.Throws<ArgumentException>(() => ConfiguredProviderSettings.BuildOne(settings));

        Assert.Contains($"'O8:Providers:{provider}:{key}' is a section of names and values ({key}:<name> = <value>", error.Message, StringComparison.Ordinal);
        settings.Remove($"{provider}:{key}");
        settings[$"{provider}:{key}:x-name"] = "x-value";
        Assert.NotNull(ConfiguredProviderSettings.BuildOne(settings)); // the section form is taken
    }

    [Fact]
    public void Provider_durations_take_the_HOCON_units_and_the_dotnet_form()
    {
        TimeSpan ClockSkew(string provider, string value)
        {
            var settings = Provider(provider);
            settings[$"{provider}:IdTokenClockSkew"] = value;
            return Assert.IsType<GenericOAuthStrategy>(ConfiguredProviderSettings.BuildOne(settings)).Options.IdTokenClockSkew;
        }

        TimeSpan RefreshInterval(string value)
        {
            var settings = Provider("corp");
            settings["corp:MetadataRefreshInterval"] = value;
            return Assert.IsType<OidcDiscoveryStrategy>(ConfiguredProviderSettings.BuildOne(settings)).MetadataRefreshInterval;
        }

        Assert.Equal(TimeSpan.FromSeconds(90), ClockSkew("crm", "90s"));
        Assert.Equal(TimeSpan.FromMinutes(2), ClockSkew("g", "2m"));
        Assert.Equal(TimeSpan.FromMinutes(10), ClockSkew("crm", "00:10:00"));
        Assert.Equal(TimeSpan.FromHours(12), RefreshInterval("12h"));
        Assert.Equal(TimeSpan.Zero, RefreshInterval("0s"));
        // A bare zero is zero in any unit: the README's "0: read the metadata once", as it always bound.
        Assert.Equal(TimeSpan.Zero, RefreshInterval("0"));
        Assert.Equal(TimeSpan.Zero, ClockSkew("crm", "0"));
    }

    [Fact]
    public async Task A_misspelt_Type_fails_the_start_naming_it_and_the_types_there_are()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:corp:Type"] = "odic";
        settings["O8:Providers:corp:Issuer"] = "https://login.corp.example";
        settings["O8:Providers:corp:ClientId"] = "corp-client";
        using var host = HostedO8.Build(settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        // Not a plain provider missing its AuthorizationEndpoint: the misspelt value itself.
        Assert.Contains("'O8:Providers:corp:Type' is 'odic', not a provider type: oidc", error.Message, StringComparison.Ordinal);
        Assert.Contains("oauth2", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AuthorizationEndpoint is missing", error.Message, StringComparison.Ordinal);

        // The two types there are still choose their kinds, in any case.
        var plain = Provider("crm");
        plain["crm:Type"] = "OAuth2";
        Assert.IsType<GenericOAuthStrategy>(ConfiguredProviderSettings.BuildOne(plain));
        Assert.IsType<OidcDiscoveryStrategy>(ConfiguredProviderSettings.BuildOne(new Dictionary<string, string?>
        {
            ["corp:Type"] = "OIDC",
            ["corp:Issuer"] = "https://login.corp.example",
            ["corp:ClientId"] = "corp-client",
        }));
    }

    /// <summary>A valid provider of each kind: <c>corp</c> discovery, <c>crm</c> plain, <c>g</c> the google preset.</summary>
    private static Dictionary<string, string?> Provider(string name) => name switch
    {
        "corp" => new() { ["corp:Issuer"] = "https://login.corp.example", ["corp:ClientId"] = "corp-client" },
        "crm" => new()
        {
            ["crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize",
            ["crm:TokenEndpoint"] = "https://crm.example.com/token",
            ["crm:ClientId"] = "crm-client",
            ["crm:ClientAuthentication"] = "None",
        },
        _ => new() { [$"{name}:Preset"] = "google", [$"{name}:ClientId"] = "g-client", [$"{name}:ClientSecret"] = "g-secret" },
    };
}
