using System.Reflection;
using Microsoft.Extensions.Logging;

namespace O8Actors.Hosting;

/// <summary>
/// Keeps ASP.NET Core's log lines that write a URL with its query (<see cref="Categories"/>) at Warning and above in the
/// app's logging. The request log's "Request starting" and "Request finished" lines, at Information, write each URL
/// with its query, and in server mode the callback's query is the authorization code and the state; a redirect result
/// writes its target at Information, and the app's redirect to the provider is the authorize URL (its state, PKCE
/// challenge, nonce) or the end-session URL (its state, and the ID token as <c>id_token_hint</c>). The loopback listener
/// drops these categories on its own host (ListenerLoggerFactory); server mode serves the callback in the app's
/// pipeline, whose logging is the app's.
/// </summary>
internal static class RequestLogFilter
{
    /// <summary>The category of ASP.NET Core's per-request log lines.</summary>
    public const string Category = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Every category kept at Warning: the request log, and the "Executing RedirectResult, redirecting to {url}" lines of
    /// minimal APIs' <c>Results.Redirect</c> and MVC's <c>Redirect</c>.
    /// </summary>
    public static readonly IReadOnlyList<string> Categories =
    [
        Category,
        "Microsoft.AspNetCore.Http.Result.RedirectResult",
        "Microsoft.AspNetCore.Mvc.Infrastructure.RedirectResultExecutor",
    ];

    /// <summary>
    /// Only ever tightens: works out which level the app's rules give each of <see cref="Categories"/>, the way
    /// Microsoft.Extensions.Logging picks a rule for a logger, and adds a rule at Warning only where that level lets
    /// Information through. An app that chose Error or None for it (<c>SetMinimumLevel</c>, <c>Logging:LogLevel</c>,
    /// a rule for <c>Microsoft.AspNetCore</c>) keeps it. Done for the loggers of every provider, then for each
    /// registered provider (its own rules outrank the rules for all providers, whatever their categories), then for
    /// the other provider names the rules give. Registered as a post-configuration, so it sees every rule the app adds,
    /// before or after <c>AddOAuthLogins</c>.
    /// </summary>
    /// <param name="filters">The app's logging rules, complete.</param>
    /// <param name="providers">The registered logging providers: a rule may name one by its type or by its alias.</param>
    public static void Apply(LoggerFilterOptions filters, IEnumerable<ILoggerProvider> providers)
    {
        var named = filters.Rules.Select(r => r.ProviderName).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var types = providers.Select(p => p.GetType()).Distinct().ToList();
        foreach (var category in Categories)
        {
            Tighten(filters, category, null, null);

            var known = new HashSet<string>(StringComparer.Ordinal);
            foreach (var type in types)
            {
                // A type without a full name cannot be named by a rule: the rules for all providers, done above, are its.
                if (type.FullName is not { } fullName) continue;
                var alias = AliasOf(type);
                Tighten(filters, category, fullName, alias);
                known.Add(fullName);
                if (alias is not null) known.Add(alias);
            }

            // A provider added to the logger factory itself (ILoggerFactory.AddProvider) is not registered: only its name
            // in the rules is known, so one named there both by type and by alias is judged by each name on its own.
            foreach (var name in named.Where(n => !known.Contains(n)))
                Tighten(filters, category, name, null);
        }
    }

    /// <summary>
    /// Adds a Warning rule for the provider called <paramref name="name"/> (null: a provider no rule names) when the
    /// rule it gets today for <paramref name="category"/> lets levels below Warning through; the new rule keeps that rule's
    /// filter delegate, which may refuse more.
    /// </summary>
    private static void Tighten(LoggerFilterOptions filters, string category, string? name, string? alias)
    {
        var best = Select(filters.Rules, category, name, alias);
        // No rule: the global minimum. A rule without a level sets none, so every level reaches its filter.
        var level = best is null ? filters.MinLevel : best.LogLevel;
        if (level >= LogLevel.Warning) return;
        filters.Rules.Add(new LoggerFilterRule(name, CategoryOutranking(category, best?.CategoryName), LogLevel.Warning, best?.Filter));
    }

    /// <summary>The rule Microsoft.Extensions.Logging uses for <paramref name="category"/> in a provider with this name and alias.</summary>
    private static LoggerFilterRule? Select(IList<LoggerFilterRule> rules, string category, string? name, string? alias)
    {
        LoggerFilterRule? best = null;
        foreach (var rule in rules)
        {
            if (Outranks(rule, best, category, name) || (!string.IsNullOrEmpty(alias) && Outranks(rule, best, category, alias)))
                best = rule;
        }

        return best;
    }

    /// <summary>
    /// Whether <paramref name="rule"/> replaces <paramref name="best"/>: it applies to the provider (its name, compared
    /// ordinally as the framework does, or no name) and to the category; a provider's rule beats one for all providers;
    /// among equals a longer category beats a shorter one or none, and a later rule beats an earlier one.
    /// </summary>
    private static bool Outranks(LoggerFilterRule rule, LoggerFilterRule? best, string category, string? name)
    {
        if (rule.ProviderName is not null && !string.Equals(rule.ProviderName, name, StringComparison.Ordinal)) return false;
        if (!Matches(rule.CategoryName, category)) return false;
        if (best is null) return true;
        if ((best.ProviderName is null) != (rule.ProviderName is null)) return rule.ProviderName is not null;
        if (rule.CategoryName is null) return best.CategoryName is null;
        return best.CategoryName is null || rule.CategoryName.Length >= best.CategoryName.Length;
    }

    /// <summary>Whether a rule's category (a prefix, or a prefix and a suffix around one '*'; null: all) covers <paramref name="category"/>.</summary>
    private static bool Matches(string? pattern, string category)
    {
        if (pattern is null) return true;
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star < 0) return category.StartsWith(pattern, StringComparison.OrdinalIgnoreCase);
        // Two wildcards make the framework throw as the first logger is created; such a rule decides nothing here.
        if (pattern.IndexOf('*', star + 1) >= 0) return false;
        return category.StartsWith(pattern[..star], StringComparison.OrdinalIgnoreCase)
               && category.EndsWith(pattern[(star + 1)..], StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The category of the added rule: <paramref name="category"/> itself, unless the rule it must outrank has a longer
    /// category (a wildcard around all of its text, such as <c>Microsoft.AspNetCore.Hosting.*Diagnostics</c>); then the
    /// whole category, a '*' and as much of its end as makes it as long, which matches only categories that begin with
    /// the whole of <paramref name="category"/>, not the others the app's pattern covers.
    /// </summary>
    private static string CategoryOutranking(string category, string? existing) =>
        existing is not null && existing.Length > category.Length
            ? category + "*" + category[^(existing.Length - category.Length - 1)..]
            : category;

    /// <summary>
    /// Warns when the app's logger factory still writes one of <see cref="Categories"/> at Information once the rules are
    /// in: a logging library that replaces the logger factory (Serilog's <c>UseSerilog</c>/<c>AddSerilog</c>, NLog's)
    /// never reads Microsoft.Extensions.Logging's rules, so in server mode every callback's code and state would be
    /// written while O8Actors appeared to keep them out.
    /// </summary>
    public static void WarnIfStillOpen(ILoggerFactory? factory)
    {
        if (factory is null) return;
        var open = Categories.Where(c => factory.CreateLogger(c).IsEnabled(LogLevel.Information)).ToList();
        if (open.Count == 0) return;
        factory.CreateLogger("O8Actors.Hosting").LogWarning(
            "Server mode: the app's logging writes {Categories} at Information, and so each callback's code and state and each " +
            "authorize URL; its logger factory does not apply the logging rules O8Actors added (Serilog, NLog and other libraries " +
            "that replace it). Set those categories to Warning in its own settings (Serilog: MinimumLevel.Override(\"{Category}\", " +
            "LogEventLevel.Warning), and the same for the others), or set QuietHostingDiagnostics = false once the app keeps them out itself",
            string.Join(", ", open), open[0]);
    }

    /// <summary>The provider's alias (<c>[ProviderAlias("Console")]</c>), which rules may use instead of its type name.</summary>
    private static string? AliasOf(Type type) => type.GetCustomAttribute<ProviderAliasAttribute>(inherit: false)?.Alias;
}
