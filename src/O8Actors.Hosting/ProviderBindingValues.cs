using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace O8Actors.Hosting;

/// <summary>
/// A provider section's values as the configuration binder is to read them: each duration (a <see cref="TimeSpan"/>
/// property of the options, such as <c>IdTokenClockSkew</c> or <c>MetadataRefreshInterval</c>) checked by the rule of
/// the <c>O8</c> section's durations (<see cref="O8SettingsSetup.TryParseDuration"/>) and handed on in .NET's form.
/// The binder alone reads a <see cref="TimeSpan"/> with <see cref="TimeSpan.Parse(string)"/>: <c>12</c> would be 12 days,
/// <c>0:30</c> half an hour (an ID token's clock skew under its 1-hour cap), and <c>12h</c>, which the <c>O8</c>
/// section takes, a bare format error.
/// </summary>
internal static class ProviderBindingValues
{
    /// <summary>The values of <paramref name="section"/> (relative to it), ready to bind to <paramref name="optionsType"/>.</summary>
    /// <param name="section">An <c>O8:Providers:&lt;name&gt;</c> section.</param>
    /// <param name="optionsType">The options the values are bound to; its <see cref="TimeSpan"/> properties are the durations.</param>
    /// <param name="leaveOut">Keys (relative paths) that are not bound, such as a preset's own keys; none when null.</param>
    /// <exception cref="ArgumentException">A duration is written without its unit; the message names its configuration key.</exception>
    public static IConfiguration For(IConfigurationSection section, Type optionsType, Func<string, bool>? leaveOut = null)
    {
        var durations = optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(TimeSpan) || p.PropertyType == typeof(TimeSpan?))
            .Select(p => p.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var values = section.AsEnumerable(makePathsRelative: true)
            .Where(p => p.Value is not null && leaveOut?.Invoke(p.Key) != true)
            .Select(p => durations.Contains(p.Key) ? KeyValuePair.Create(p.Key, (string?)Duration(section, p.Key, p.Value!)) : p)
            .ToList();
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    private static string Duration(IConfigurationSection section, string key, string value) =>
        O8SettingsSetup.TryParseDuration(value) is { } duration
            ? duration.ToString("c", CultureInfo.InvariantCulture)
            : throw new ArgumentException($"'{section.Path}:{key}': '{value}' is not {O8SettingsSetup.DurationForms}.", key);
}
