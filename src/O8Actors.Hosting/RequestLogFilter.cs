using Microsoft.Extensions.Logging;

namespace O8Actors.Hosting;

/// <summary>
/// Keeps ASP.NET Core's request log (<see cref="Category"/>) at Warning and above in the app's logging. Its "Request
/// starting" and "Request finished" lines, at Information, write each URL with its query, and in server mode the
/// callback's query is the authorization code and the state. The loopback listener drops that category on its own host
/// (ListenerLoggerFactory); server mode serves the callback in the app's pipeline, whose logging is the app's.
/// </summary>
internal static class RequestLogFilter
{
    /// <summary>The category of ASP.NET Core's per-request log lines.</summary>
    public const string Category = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Adds a rule for <see cref="Category"/> at Warning for every provider, and one for each provider the app gave rules
    /// of its own (a provider's rule outranks a rule for all providers, whatever their categories). Runs after the rules
    /// from configuration (<c>Logging:LogLevel</c>), so it outranks the app's setting for this category there; a rule
    /// already at Warning or above is left as it is.
    /// </summary>
    public static void Apply(LoggerFilterOptions filters)
    {
        var providers = filters.Rules.Select(r => r.ProviderName).Append(null).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var provider in providers)
        {
            var own = filters.Rules.LastOrDefault(r => string.Equals(r.ProviderName, provider, StringComparison.OrdinalIgnoreCase)
                                                      && string.Equals(r.CategoryName, Category, StringComparison.OrdinalIgnoreCase));
            if (own?.LogLevel is >= LogLevel.Warning) continue;
            filters.Rules.Add(new LoggerFilterRule(provider, Category, LogLevel.Warning, own?.Filter));
        }
    }
}
