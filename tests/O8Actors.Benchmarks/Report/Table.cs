using System.Globalization;
using O8Actors.Benchmarks.Driver;

namespace O8Actors.Benchmarks.Report;

/// <summary>The results table, as Markdown (also readable on a console).</summary>
internal static class Table
{
    public const string Header =
        "| Row | Concurrency | Warm-up | N | Logins/s (req/s) | p50 ms | p99 ms | CPU ms per login (measured process) | of which JIT tier-up CPU ms | Driver CPU ms per login (browser + server) | Peak RSS MB | Failures |\n" +
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    public static string Line(Row row)
    {
        var r = row.Result;
        if (row.Kind == "pending")
        {
            return $"| {row.Name} | - | - | {row.N:N0} | - | - | - | - | - | - | {Mb(r.PeakRssBytes)} | {r.Failed} |";
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"| {row.Name} | {row.Concurrency} | {Warmed(row)} | {row.N:N0} | {row.PerSecond:F0}{Range(row)} | {r.P50Ms:F1} | {r.P99Ms:F1} | {row.CpuMsPerLogin:F2}{CpuRange(row)} | {Jit(row)} | {row.DriverCpuMsPerLogin:F2} | {Mb(r.PeakRssBytes)} | {row.FailedInAllRuns}{(r.FirstFailure is null ? "" : $" ({r.FirstFailure})")} |");
    }

    /// <summary>The pending-logins table: one line per checkpoint.</summary>
    public static IEnumerable<string> Pending(Row row)
    {
        yield return "| Pending logins | Managed bytes per pending login | RSS bytes per pending login | Start one login (ms, median) | Route one login (ms, median) | Time to reach it (s) |";
        yield return "|---:|---:|---:|---:|---:|---:|";
        var extra = row.Result.Extra ?? [];
        foreach (var key in extra.Keys.Where(k => k.StartsWith("managed_per_pending_", StringComparison.Ordinal)))
        {
            var count = key["managed_per_pending_".Length..];
            yield return string.Create(CultureInfo.InvariantCulture,
                $"| {int.Parse(count, CultureInfo.InvariantCulture):N0} | {extra[key]:F0} | {extra[$"rss_per_pending_{count}"]:F0} | {extra[$"start_ms_{count}"]:F2} | {extra[$"route_ms_{count}"]:F2} | {extra[$"seconds_to_{count}"]:F1} |");
        }
    }

    private static string Range(Row row) => row.Runs is { Count: > 1 } runs
        ? string.Create(CultureInfo.InvariantCulture, $" ({runs.Min(r => r.PerSecond):F0}-{runs.Max(r => r.PerSecond):F0})")
        : "";

    private static string CpuRange(Row row) => row.Runs is { Count: > 1 } runs
        ? string.Create(CultureInfo.InvariantCulture, $" ({runs.Min(r => r.CpuMsPerLogin):F2}-{runs.Max(r => r.CpuMsPerLogin):F2})")
        : "";

    /// <summary>CPU of the JIT's tier-up thread during the measured phase, per login: what the warm-up left to settle.</summary>
    private static string Jit(Row row) => row.Result.Extra?.GetValueOrDefault("jit_cpu_ms_measured") is { } ms && row.Result.Completed > 0
        ? (ms / row.Result.Completed).ToString("F2", CultureInfo.InvariantCulture)
        : "-";

    /// <summary>Logins run before measuring, and whether the JIT had settled by then (see <see cref="Warmup"/>).</summary>
    private static string Warmed(Row row) => row.Result.Extra?.GetValueOrDefault("warmup") is { } warmup and > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{warmup:N0}{(row.Result.Extra.GetValueOrDefault("warmup_settled") > 0 ? "" : " (JIT not settled)")}" +
            $"{(row.Result.Extra.GetValueOrDefault("warmup_failed") is > 0 and var failed ? $" ({failed:N0} failed)" : "")}")
        : "-";

    private static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F0", CultureInfo.InvariantCulture);
}
