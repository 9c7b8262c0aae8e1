using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using O8Actors.Configuration;

namespace O8Actors.Hosting;

/// <summary>
/// Fills <see cref="O8Options"/> for DI: shipped HOCON defaults, then the hosting options' HOCON, then the code
/// settings, then the <c>IConfiguration</c> section (which wins).
/// </summary>
internal sealed class O8SettingsSetup(O8HostingOptions hosting, IConfiguration? configuration = null, string? contentRoot = null) : IConfigureOptions<O8Options>
{
    public void Configure(O8Options options)
    {
        var defaults = O8Options.FromConfig(hosting.Hocon);
        options.Listener = defaults.Listener;
        options.Certificates = defaults.Certificates;
        options.Login = defaults.Login;
        options.Providers = defaults.Providers;
        options.Tokens = defaults.Tokens;
        foreach (var action in hosting.SettingsActions) action(options);
        if (configuration is not null && hosting.ConfigurationSection is { Length: > 0 } name)
        {
            var section = configuration.GetSection(name);
            CheckKeysAndValues(section, name);
            // The binder reads a TimeSpan with TimeSpan.Parse ("120" is 120 days): bind the checked durations in its form;
            // and an enum by its name only, so the listener start's HOCON spelling (on-first-use) goes by its name too.
            var values = section.AsEnumerable(makePathsRelative: true)
                .Where(p => p.Value is not null)
                .Select(p => KeyValuePair.Create(p.Key, O8SettingKeys.ToHoconKey(p.Key) switch
                {
                    var key when IsDuration(key) => TryParseDuration(p.Value!)!.Value.ToString("c", CultureInfo.InvariantCulture),
                    ListenerStartKey when O8Options.TryParseListenerStart(p.Value, out var start) => start.ToString(),
                    _ => p.Value,
                }));
            new ConfigurationBuilder().AddInMemoryCollection(values).Build().Bind(options);
            // A relative folder in the app's configuration is beside the app, as the providers' key files are: not the
            // working directory (a Windows service's is System32), where mkcert would otherwise write a key. One set in code is used as written.
            if (contentRoot is not null && section.GetSection("Certificates")["Folder"] is { Length: > 0 } folder && !Path.IsPathFullyQualified(folder))
                options.Certificates.Folder = Path.GetFullPath(folder, contentRoot);
        }
    }

    private const string ListenerStartKey = "o8.listener.start";

    private static bool IsDuration(string hoconKey) => hoconKey is "o8.login.timeout" or "o8.login.exchange-timeout" or "o8.tokens.refresh-margin";

    private static readonly (string[] Units, double Milliseconds)[] DurationUnits =
    [
        (["ms", "millis", "millisecond", "milliseconds"], 1),
        (["s", "second", "seconds"], 1_000),
        (["m", "minute", "minutes"], 60_000),
        (["h", "hour", "hours"], 3_600_000),
        (["d", "day", "days"], 86_400_000),
    ];

    /// <summary>What <see cref="TryParseDuration"/> takes, as an error message says it (the providers' durations too).</summary>
    internal const string DurationForms = "a duration with its unit, such as 120s, 2m or 500ms, or hours:minutes:seconds such as 00:02:00";

    /// <summary>
    /// A duration as HOCON writes it (<c>120s</c>, <c>2m</c>, <c>500ms</c>) or as .NET does with all three parts
    /// (<c>00:02:00</c>, optionally <c>d.hh:mm:ss.fff</c>), or a bare <c>0</c>. Null for anything else: another bare
    /// number (days to the binder, milliseconds to HOCON) and <c>2:00</c> (hours to .NET, minutes to most readers) mean different things to different readers.
    /// </summary>
    internal static TimeSpan? TryParseDuration(string value)
    {
        var text = value.Trim();
        if (text.Count(c => c == ':') == 2)
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? span : null;
        var digits = 0;
        while (digits < text.Length && (char.IsAsciiDigit(text[digits]) || text[digits] == '.')) digits++;
        if (digits == 0 || !double.TryParse(text[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)) return null;
        var unit = text[digits..].Trim();
        // A bare zero is zero to every reader, whatever unit it would have had ("read the metadata once", "no skew").
        if (unit.Length == 0 && amount == 0) return TimeSpan.Zero;
        foreach (var (units, milliseconds) in DurationUnits)
            if (units.Contains(unit, StringComparer.OrdinalIgnoreCase))
                // Past what a TimeSpan holds it is no duration (TimeSpan.FromMilliseconds would throw, naming no setting).
                return amount * milliseconds is var total && total < TimeSpan.MaxValue.TotalMilliseconds ? TimeSpan.FromMilliseconds(total) : null;
        return null;
    }

    /// <summary>
    /// A misspelt key would otherwise be ignored without a word, and the binder's conversion error names the path but
    /// not the setting: fail first, naming the key both ways, suggesting the nearest setting, quoting the bad value.
    /// </summary>
    /// <summary>The subsection of the O8 section that O8Actors.Persistence reads (<c>O8PersistenceOptions.FromConfiguration</c>).</summary>
    internal const string PersistenceSection = "Persistence";

    private static void CheckKeysAndValues(IConfigurationSection section, string name)
    {
        foreach (var (path, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null) continue; // a section, not a value
            var segments = path.Split(':');
            // O8:Providers:<name>:... are providers, checked by ConfiguredProviders.
            if (segments.Length >= 3 && string.Equals(segments[0], "Providers", StringComparison.OrdinalIgnoreCase)) continue;
            // O8:Persistence:... is O8Actors.Persistence's section (its FromConfiguration checks its own keys).
            if (segments.Length >= 2 && string.Equals(segments[0], PersistenceSection, StringComparison.OrdinalIgnoreCase)) continue;
            var hoconKey = O8SettingKeys.ToHoconKey(path);
            if (O8SettingKeys.UnknownConfigurationKey(path, name) is { } unknown)
                throw O8ConfigurationException.NotASetting(hoconKey, unknown, name);
            if (Expected(hoconKey) is { } expected && !Parses(hoconKey, value))
                throw new O8ConfigurationException(hoconKey, $"'{value}' is not {expected}", name);
        }
    }

    /// <summary>The settings whose value is a whole number (checked before the binder, which would not name them both ways).</summary>
    private static readonly string[] WholeNumbers =
    [
        "o8.listener.port", "o8.providers.max-concurrent-exchanges", "o8.providers.max-queued-exchanges", "o8.login.max-pending",
        "o8.login.max-pending-per-partition",
    ];

    private static string? Expected(string hoconKey) => hoconKey switch
    {
        _ when WholeNumbers.Contains(hoconKey) => "a whole number",
        "o8.listener.bind-ipv6" or "o8.certificates.auto-create" or "o8.login.pkce" => "true or false",
        "o8.login.timeout" or "o8.login.exchange-timeout" or "o8.tokens.refresh-margin" => DurationForms,
        "o8.listener.external-redirect-uri" => "a URI",
        "o8.login.method" => "Browser, Device or Auto",
        ListenerStartKey => "AtStart, OnFirstUse or WhileNeeded (or at-start, on-first-use, while-needed)",
        _ => null,
    };

    private static bool Parses(string hoconKey, string value) => hoconKey switch
    {
        _ when WholeNumbers.Contains(hoconKey) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        "o8.listener.bind-ipv6" or "o8.certificates.auto-create" or "o8.login.pkce" => bool.TryParse(value, out _),
        "o8.login.timeout" or "o8.login.exchange-timeout" or "o8.tokens.refresh-margin" => TryParseDuration(value) is not null,
        "o8.listener.external-redirect-uri" => value.Length == 0 || Uri.TryCreate(value, UriKind.RelativeOrAbsolute, out _),
        "o8.login.method" => O8Options.TryParseMethod(value, out _),
        ListenerStartKey => O8Options.TryParseListenerStart(value, out _),
        _ => true,
    };
}

/// <summary>
/// Validates the bound settings and the configured providers at host start (<c>ValidateOnStart</c>). A bad setting
/// throws <see cref="O8ConfigurationException"/>, naming it both as a HOCON key and as an <c>IConfiguration</c> key.
/// </summary>
internal sealed class O8SettingsValidator(O8HostingOptions hosting, IConfiguration? configuration = null, string? contentRoot = null)
    : IValidateOptions<O8Options>
{
    public ValidateOptionsResult Validate(string? name, O8Options options)
    {
        // Thrown, not returned as a failure: a bad setting is the same O8ConfigurationException hosted and standalone.
        options.Validate(hosting.ConfigurationSection);

        // O8HostingOptions.Hocon is read for settings only and never reaches the actor system, so a dispatcher block
        // there would change nothing: name where it takes effect instead.
        foreach (var block in (string[])["o8.dispatcher", "o8.flow-dispatcher"])
        {
            if (hosting.Hocon is { IsEmpty: false } hocon && hocon.HasPath(block))
                return ValidateOptionsResult.Fail(
                    $"'{block}' in O8HostingOptions.Hocon has no effect: that HOCON is read for O8Actors' settings only and is not the actor " +
                    $"system's configuration. Set '{block}' in the actor system's HOCON instead (AddAkka(..., akka => akka.AddHocon(..., HoconAddMode.Prepend))).");
        }

        if (configuration is not null && hosting.ConfigurationSection is { Length: > 0 } section)
        {
            try
            {
                ConfiguredProviders.Check(configuration.GetSection(section).GetSection("Providers"), contentRoot, configuration as IConfigurationRoot);
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal));
            }
        }

        return ValidateOptionsResult.Success;
    }
}
