using O8Actors.Configuration;

namespace O8Actors;

/// <summary>
/// A setting is missing, unknown or invalid. The message names it in both forms: as a HOCON key
/// (<see cref="HoconKey"/>, e.g. <c>o8.login.timeout</c>) and as an <c>IConfiguration</c> key
/// (<see cref="ConfigurationKey"/>, e.g. <c>O8:Login:Timeout</c>), so it can be fixed wherever it was set.
/// </summary>
public sealed class O8ConfigurationException : OAuthFlowException
{
    /// <summary>Creates the exception for the setting <paramref name="hoconKey"/>.</summary>
    /// <param name="hoconKey">The setting's HOCON key (<c>o8.…</c>).</param>
    /// <param name="problem">What is wrong, as a sentence without the key (e.g. "must be positive").</param>
    /// <param name="configurationSection">The <c>IConfiguration</c> section O8Actors binds (default <c>O8</c>).</param>
    /// <param name="innerException">The parse error, if any.</param>
    public O8ConfigurationException(string hoconKey, string problem, string? configurationSection = null, Exception? innerException = null)
        : this(hoconKey, problem, configurationSection, innerException, notASetting: false)
    {
    }

    private O8ConfigurationException(string hoconKey, string problem, string? configurationSection, Exception? innerException, bool notASetting)
        : base(Describe(hoconKey, problem, configurationSection, notASetting), innerException)
    {
        HoconKey = hoconKey;
        ConfigurationKey = O8SettingKeys.ToConfigurationKey(hoconKey, configurationSection);
        Problem = problem;
    }

    /// <summary>
    /// The exception for a key that is no setting (<paramref name="problem"/> says so, with the nearest setting if any):
    /// its message names the key both ways but tells nobody to set it, since the fix is another key or none.
    /// </summary>
    internal static O8ConfigurationException NotASetting(string hoconKey, string problem, string? configurationSection) =>
        new(hoconKey, problem, configurationSection, innerException: null, notASetting: true);

    private static string Describe(string hoconKey, string problem, string? configurationSection, bool notASetting)
    {
        var configurationKey = O8SettingKeys.ToConfigurationKey(hoconKey, configurationSection);
        return notASetting
            ? $"'{hoconKey}' ('{configurationKey}' in configuration) {Sentence(problem)}"
            : $"Invalid O8Actors setting '{hoconKey}': {Sentence(problem)} Set it in HOCON as '{hoconKey}' or in configuration as '{configurationKey}'.";
    }

    /// <summary>The problem as a sentence: a question ("did you mean …?") keeps its question mark and gets no full stop.</summary>
    private static string Sentence(string problem)
    {
        var text = problem.TrimEnd().TrimEnd('.');
        return text.EndsWith('?') ? text : text + ".";
    }

    /// <summary>The setting as a HOCON key, e.g. <c>o8.login.exchange-timeout</c>.</summary>
    public string HoconKey { get; }

    /// <summary>The setting as an <c>IConfiguration</c> key, e.g. <c>O8:Login:ExchangeTimeout</c>.</summary>
    public string ConfigurationKey { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
