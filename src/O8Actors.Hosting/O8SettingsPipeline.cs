using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using O8Actors.Configuration;

namespace O8Actors.Hosting;

/// <summary>
/// Fills <see cref="O8Options"/> for DI: shipped HOCON defaults, then the hosting options' HOCON, then the code
/// settings, then the <c>IConfiguration</c> section (which wins).
/// </summary>
internal sealed class O8SettingsSetup(O8HostingOptions hosting, IConfiguration? configuration = null) : IConfigureOptions<O8Options>
{
    public void Configure(O8Options options)
    {
        var defaults = O8Options.FromConfig(hosting.Hocon);
        options.Listener = defaults.Listener;
        options.Certificates = defaults.Certificates;
        options.Login = defaults.Login;
        options.Providers = defaults.Providers;
        foreach (var action in hosting.SettingsActions) action(options);
        if (configuration is not null && hosting.ConfigurationSection is { Length: > 0 } name)
            configuration.GetSection(name).Bind(options);
    }
}

/// <summary>
/// Validates the bound settings and the configured providers at host start (<c>ValidateOnStart</c>); the message names
/// the setting both as a HOCON key and as an <c>IConfiguration</c> key.
/// </summary>
internal sealed class O8SettingsValidator(O8HostingOptions hosting, IConfiguration? configuration = null) : IValidateOptions<O8Options>
{
    public ValidateOptionsResult Validate(string? name, O8Options options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            var key = ex.ParamName ?? "o8";
            return ValidateOptionsResult.Fail(
                $"{ex.Message.Replace($" (Parameter '{key}')", "", StringComparison.Ordinal)} Set it in HOCON as '{key}' or in configuration as '{ToConfigurationKey(key, hosting.ConfigurationSection)}'.");
        }

        if (configuration is not null && hosting.ConfigurationSection is { Length: > 0 } section)
        {
            try
            {
                ConfiguredProviders.Build(configuration.GetSection(section).GetSection("Providers"));
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal));
            }
        }

        return ValidateOptionsResult.Success;
    }

    /// <summary><c>o8.login.exchange-timeout</c> → <c>O8:Login:ExchangeTimeout</c> (under <paramref name="section"/>).</summary>
    internal static string ToConfigurationKey(string hoconKey, string? section)
    {
        var parts = hoconKey.Split('.');
        var result = new StringBuilder(section is { Length: > 0 } ? section : "O8");
        foreach (var part in parts.Skip(parts.Length > 0 && parts[0] == "o8" ? 1 : 0))
        {
            result.Append(':');
            foreach (var word in part.Split('-', StringSplitOptions.RemoveEmptyEntries))
                result.Append(char.ToUpperInvariant(word[0])).Append(word.AsSpan(1));
        }

        return result.ToString();
    }
}
