using System.Globalization;
using System.Text;
using O8Actors.Benchmarks.Driver;

namespace O8Actors.Benchmarks.Report;

/// <summary>
/// The interleaved mode's report: per side the logins/s over all its blocks (every login over every block's time) with
/// the median block and the range, CPU per login of the measured process and of the driver; then each ratio the targets
/// name, pooled over the blocks and per cycle (blocks of one cycle ran seconds apart).
/// </summary>
internal static class InterleavedReport
{
    private static readonly (string Side, string Name)[] Sides =
    [
        ("o8", "O8Actors"), ("ceiling", "Bare Kestrel (ceiling)"), ("lean", "Lean login"),
        ("lean-oidc", "Lean login + ID-token check (by hand)"),
    ];

    public static string Markdown(InterleavedRun run)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"**{run.Label}**, concurrency {run.Concurrency}: {run.Cycles} cycles of one {run.BlockSize:N0}-login block per side, the sides alternating.");
        text.AppendLine();
        text.AppendLine("| Side | Warm-up | Logins | Logins/s, all blocks | Logins/s per block: median (range) | CPU ms per login (measured process) | Driver CPU ms per login | p50 ms (median block) | Failures |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (side, name) in Sides.Where(s => run.Warmups.ContainsKey(s.Side)))
        {
            var blocks = run.Blocks.Where(b => b.Side == side).ToList();
            var logins = blocks.Sum(b => b.Measured.Completed);
            var rates = blocks.Select(b => b.PerSecond).Order().ToList();
            var (warmed, settled) = run.Warmups[side];
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {warmed:N0}{(settled ? "" : " (JIT not settled)")} | {logins:N0} | {Pooled(blocks):F0} | {Median(rates):F0} ({rates[0]:F0}-{rates[^1]:F0}) | " +
                $"{blocks.Sum(b => b.Measured.CpuMs) / Math.Max(1, logins):F2} | {blocks.Sum(b => b.DriverCpuMs) / Math.Max(1, logins):F2} | " +
                $"{Median(blocks.Select(b => b.Measured.P50Ms).Order().ToList()):F1} | {blocks.Sum(b => b.Measured.Failed)} |");
        }

        text.AppendLine();
        foreach (var (over, under, reading) in new[]
                 {
                     ("o8", "ceiling", run.Label.StartsWith("https", StringComparison.Ordinal)
                         ? "O8Actors against the ceiling (the target: at least 0.9×)"
                         : "O8Actors against the ceiling (no target over http: the ceiling makes no token request)"),
                     ("lean", "ceiling", "The lean login against the ceiling"),
                     ("o8", "lean", "O8Actors against the lean login"),
                     ("lean-oidc", "ceiling", "The lean login with its ID-token check against the ceiling"),
                     ("o8", "lean-oidc", "O8Actors against the lean login with its ID-token check"),
                 }.Where(r => run.Warmups.ContainsKey(r.Item1) && run.Warmups.ContainsKey(r.Item2)))
        {
            var perCycle = Enumerable.Range(0, run.Cycles)
                .Select(c => Rate(run, over, c) / Rate(run, under, c))
                .ToList();
            var sorted = perCycle.Order().ToList();
            var pooled = Pooled(run.Blocks.Where(b => b.Side == over)) / Pooled(run.Blocks.Where(b => b.Side == under));
            text.AppendLine(CultureInfo.InvariantCulture,
                $"- {reading}: {pooled:F2}× over all blocks; per cycle {string.Join(", ", perCycle.Select(r => r.ToString("F2", CultureInfo.InvariantCulture) + "×"))} (median {Median(sorted):F2}×, {sorted[0]:F2}-{sorted[^1]:F2}).");
        }

        return text.ToString();
    }

    private static double Rate(InterleavedRun run, string side, int cycle) =>
        run.Blocks.Single(b => b.Side == side && b.Cycle == cycle).PerSecond;

    /// <summary>Every login of the blocks over all their time.</summary>
    private static double Pooled(IEnumerable<Block> blocks)
    {
        var list = blocks.ToList();
        var seconds = list.Sum(b => b.Measured.WallSeconds);
        return seconds > 0 ? list.Sum(b => b.Measured.Completed) / seconds : 0;
    }

    private static double Median(IReadOnlyList<double> sorted) => sorted.Count == 0 ? double.NaN
        : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
