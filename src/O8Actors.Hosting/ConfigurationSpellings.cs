using Microsoft.Extensions.Configuration;

namespace O8Actors.Hosting;

/// <summary>
/// Refuses a key that two configuration sources spell in different case. Configuration merges keys ignoring case, and a
/// merged key is spelled as the last source that has it spells it: an environment variable written in upper case
/// (<c>O8__PROVIDERS__GITHUB__CLIENTSECRET</c>) renames the provider <c>github</c> of appsettings.json to <c>GITHUB</c>
/// (its callback path, its back-channel logout address and every call by name then miss it), and turns an authorize
/// parameter <c>acr_values</c> into <c>ACR_VALUES</c>, which no provider reads: a step-up silently dropped.
/// </summary>
internal static class ConfigurationSpellings
{
    /// <summary>
    /// Throws when the sources of <paramref name="root"/> spell a child key of <paramref name="section"/> in different case,
    /// naming both spellings and the sources; <paramref name="what"/> says what the keys are (for the message). With
    /// <paramref name="only"/>, only the children it takes (as merged) are checked: a key whose spelling names nothing
    /// (a setting read ignoring case) may be spelled any way.
    /// </summary>
    /// <exception cref="ArgumentException">Two spellings of one key.</exception>
    public static void RefuseMixedCase(IConfigurationRoot root, IConfigurationSection section, string what, Func<IConfigurationSection, bool>? only = null)
    {
        var spellings = new Dictionary<string, (string Spelling, string Source)>(StringComparer.OrdinalIgnoreCase);
        foreach (var provider in root.Providers)
        {
            foreach (var key in provider.GetChildKeys([], section.Path).Distinct(StringComparer.Ordinal))
            {
                if (!spellings.TryGetValue(key, out var seen))
                {
                    spellings[key] = (key, provider.ToString() ?? provider.GetType().Name);
                    continue;
                }
                if (string.Equals(seen.Spelling, key, StringComparison.Ordinal)) continue;
                if (only is not null && !only(section.GetSection(key))) continue;
                throw new ArgumentException(
                    $"'{section.Path}' has the {what} '{seen.Spelling}' ({seen.Source}) and '{key}' ({provider}): configuration merges them " +
                    $"as one, spelled '{key}', which is not the other's. Spell them alike in every source (an environment variable " +
                    $"{EnvironmentName(section.Path, seen.Spelling)}).", section.Path);
            }
        }
    }

    private static string EnvironmentName(string path, string key) => string.Join("__", path.Split(':').Append(key));
}
