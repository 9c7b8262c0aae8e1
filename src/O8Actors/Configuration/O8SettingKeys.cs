using System.Text;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace O8Actors.Configuration;

/// <summary>
/// Every O8Actors setting by name, as a HOCON key and as an <c>IConfiguration</c> key, so that a typo fails at start
/// ("did you mean …") instead of being silently ignored, and every error names the setting both ways.
/// </summary>
internal static class O8SettingKeys
{
    /// <summary>The settings: HOCON key under <c>o8</c>, and the same setting as an <c>IConfiguration</c> path under the section.</summary>
    public static readonly IReadOnlyList<(string Hocon, string Configuration)> All =
    [
        ("listener.scheme", "Listener:Scheme"),
        ("listener.host", "Listener:Host"),
        ("listener.port", "Listener:Port"),
        ("listener.path", "Listener:Path"),
        ("listener.bind-ipv6", "Listener:BindIPv6"),
        ("listener.start", "Listener:Start"),
        ("listener.external-redirect-uri", "Listener:ExternalRedirectUri"),
        ("certificates.folder", "Certificates:Folder"),
        ("certificates.cert-file", "Certificates:CertFile"),
        ("certificates.key-file", "Certificates:KeyFile"),
        ("certificates.auto-create", "Certificates:AutoCreate"),
        ("login.timeout", "Login:Timeout"),
        ("login.exchange-timeout", "Login:ExchangeTimeout"),
        ("login.pkce", "Login:Pkce"),
        ("providers.max-concurrent-exchanges", "Providers:MaxConcurrentExchanges"),
        ("login.max-pending", "Login:MaxPending"),
        ("login.max-pending-per-partition", "Login:MaxPendingPerPartition"),
        ("login.method", "Login:Method"),
        ("providers.max-queued-exchanges", "Providers:MaxQueuedExchanges"),
        ("tokens.refresh-margin", "Tokens:RefreshMargin"),
    ];

    // Internal blocks of the shipped o8.conf that are Akka configuration, not settings: anything below them is allowed.
    private static readonly string[] OpenBlocks = ["dispatcher", "flow-dispatcher"];

    /// <summary><c>o8.login.exchange-timeout</c> → <c>O8:Login:ExchangeTimeout</c> (under <paramref name="section"/>, default <c>O8</c>).</summary>
    public static string ToConfigurationKey(string hoconKey, string? section = null)
    {
        var prefix = section is { Length: > 0 } ? section : "O8";
        var relative = hoconKey.StartsWith("o8.", StringComparison.Ordinal) ? hoconKey[3..] : hoconKey;
        foreach (var (hocon, configuration) in All)
            if (hocon == relative) return $"{prefix}:{configuration}";

        // Not a known setting (an unknown key being reported): convert word by word.
        var result = new StringBuilder(prefix);
        foreach (var part in relative.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            result.Append(':');
            foreach (var word in part.Split('-', StringSplitOptions.RemoveEmptyEntries))
                result.Append(char.ToUpperInvariant(word[0])).Append(word.AsSpan(1));
        }

        return result.ToString();
    }

    /// <summary>
    /// Throws <see cref="O8ConfigurationException"/> for the first key in the <c>o8</c> block of <paramref name="config"/>
    /// (the caller's own HOCON, without the shipped defaults) that is no setting.
    /// </summary>
    public static void CheckHocon(Config? config, string? configurationSection = null)
    {
        if (config is null || config.IsEmpty || !config.HasPath("o8")) return;
        var root = config.GetValue("o8");
        if (!root.IsObject())
            throw new O8ConfigurationException("o8", "must be a block of settings", configurationSection);
        foreach (var key in LeafKeys(root.GetObject(), ""))
        {
            if (All.Any(s => s.Hocon == key) || OpenBlocks.Any(b => key == b || key.StartsWith(b + ".", StringComparison.Ordinal))) continue;
            throw O8ConfigurationException.NotASetting($"o8.{key}", $"is not an O8Actors setting{Suggestion(key, hocon: true)}", configurationSection);
        }
    }

    /// <summary>
    /// Checks one <c>IConfiguration</c> key under the section (<paramref name="relativePath"/> such as <c>Login:Timout</c>,
    /// compared without regard to case, as the binder does); returns null when it is a setting, else the problem.
    /// </summary>
    public static string? UnknownConfigurationKey(string relativePath, string section) =>
        All.Any(s => string.Equals(s.Configuration, relativePath, StringComparison.OrdinalIgnoreCase))
            ? null
            : $"is not an O8Actors setting{Suggestion(relativePath, hocon: false, section)}";

    /// <summary><c>Login:ExchangeTimeout</c> → <c>o8.login.exchange-timeout</c>, for keys that are no setting too.</summary>
    public static string ToHoconKey(string relativePath)
    {
        foreach (var (hocon, configuration) in All)
            if (string.Equals(configuration, relativePath, StringComparison.OrdinalIgnoreCase)) return $"o8.{hocon}";
        var result = new StringBuilder("o8");
        foreach (var part in relativePath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            result.Append('.');
            for (var i = 0; i < part.Length; i++)
            {
                if (i > 0 && char.IsUpper(part[i]) && char.IsLower(part[i - 1])) result.Append('-');
                result.Append(char.ToLowerInvariant(part[i]));
            }
        }

        return result.ToString();
    }

    /// <summary>The HOCON key of the setting <paramref name="relativePath"/> names in <c>IConfiguration</c>, if it is one.</summary>
    public static string? HoconKeyOf(string relativePath)
    {
        foreach (var (hocon, configuration) in All)
            if (string.Equals(configuration, relativePath, StringComparison.OrdinalIgnoreCase)) return $"o8.{hocon}";
        return null;
    }

    private static IEnumerable<string> LeafKeys(HoconObject block, string prefix)
    {
        foreach (var (name, value) in block.Items)
        {
            var key = prefix.Length == 0 ? name : $"{prefix}.{name}";
            if (value.IsObject() && !OpenBlocks.Contains(key))
            {
                foreach (var leaf in LeafKeys(value.GetObject(), key)) yield return leaf;
            }
            else
            {
                yield return key;
            }
        }
    }

    private static string Suggestion(string key, bool hocon, string? section = null)
    {
        var best = All.Select(s => hocon ? s.Hocon : s.Configuration)
            .Select(candidate => (candidate, distance: Distance(key.ToLowerInvariant(), candidate.ToLowerInvariant())))
            .MinBy(c => c.distance);
        // Only close misspellings are worth a guess.
        if (best.distance > Math.Max(3, key.Length / 3)) return "";
        return hocon ? $"; did you mean 'o8.{best.candidate}'?" : $"; did you mean '{section ?? "O8"}:{best.candidate}'?";
    }

    /// <summary>Levenshtein distance.</summary>
    internal static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
