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
        ("o8", "O8Actors"), ("ceiling", "Bare Kestrel (ceiling)"),
        ("ceiling-login", "Bare Kestrel, the browser's whole login (login ceiling)"), ("lean", "Lean login"),
        ("lean-oidc", "Lean login + ID-token check (by hand)"),
    ];

    // From the ceiling to O8Actors, one step of a login's work at a time: what each step costs in logins/s.
    private static readonly (string Side, string Step)[] Steps =
    [
        ("ceiling-login", "the browser's authorize request and redirect"), ("lean", "the code exchange"),
        ("lean-oidc", "the ID token's check"), ("o8", "the library"),
    ];

    /// <param name="run">The run; an independent setting's run (<see cref="InterleavedRun.Independent"/>) reads its load as the server's.</param>
    public static string Markdown(InterleavedRun run)
    {
        var independent = run.Independent;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"**{run.Label}**, concurrency {run.Concurrency}: {run.Cycles} cycles of one {run.BlockSize:N0}-login block per side, the sides alternating.");
        text.AppendLine();
        text.AppendLine(independent
            ? "| Side | Warm-up | Logins | Logins/s, all blocks | Logins/s per block: median (range) | CPU ms per login (measured process) | Server CPU ms per login | p50 ms (median block) | Failures |"
            : "| Side | Warm-up | Logins | Logins/s, all blocks | Logins/s per block: median (range) | CPU ms per login (measured process) | Driver CPU ms per login | Driver's HTTP per login: served / sent / connections | p50 ms (median block) | Failures |");
        text.AppendLine(independent ? "|---|---:|---:|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (side, name) in Sides.Where(s => run.Warmups.ContainsKey(s.Side)))
        {
            var blocks = run.Blocks.Where(b => b.Side == side).ToList();
            var logins = blocks.Sum(b => b.Measured.Completed);
            var rates = blocks.Select(b => b.PerSecond).Order().ToList();
            var (warmed, settled, warmFailed) = run.Warmups[side];
            // The independent setting's warm-up is its fixed --warmup, not a settled JIT: no remark either way.
            var warmup = string.Create(CultureInfo.InvariantCulture,
                $"{warmed:N0}{(settled || independent ? "" : " (JIT not settled)")}{(warmFailed > 0 ? $" ({warmFailed:N0} failed)" : "")}");
            var work = independent ? "" : string.Create(CultureInfo.InvariantCulture,
                $"{Work(blocks, w => w.Served):F2} / {Work(blocks, w => w.Sent):F2} / {Work(blocks, w => w.Connections):F2} | ");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {warmup} | {logins:N0} | {Pooled(blocks):F0} | {Median(rates):F0} ({rates[0]:F0}-{rates[^1]:F0}) | " +
                $"{blocks.Sum(b => b.Measured.CpuMs) / Math.Max(1, logins):F2} | {blocks.Sum(b => b.LoadCpuMs) / Math.Max(1, logins):F2} | {work}" +
                $"{Median(blocks.Select(b => b.Measured.P50Ms).Order().ToList()):F1} | {blocks.Sum(b => b.Measured.Failed)} |");
        }

        text.AppendLine();
        foreach (var (over, under, reading) in new[]
                 {
                     ("o8", "ceiling", run.Label.StartsWith("https", StringComparison.Ordinal)
                         ? "O8Actors against the ceiling (the target: at least 0.9×)"
                         : "O8Actors against the ceiling (no target over http: the ceiling makes no token request)"),
                     ("o8", "ceiling-login", independent
                         ? "O8Actors against the ceiling (the browser's whole login; the target: at least 0.9× over https)"
                         : "O8Actors against the login ceiling (the independent setting's ceiling)"),
                     ("lean", "ceiling", "The lean login against the ceiling"),
                     ("lean", "ceiling-login", independent ? "The lean login against the ceiling" : "The lean login against the login ceiling"),
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

        text.Append(Waterfall(run));
        return text.ToString();
    }

    /// <summary>
    /// Each side's logins/s over all blocks as a share of the ceiling's, in the order a login adds its work, and what each
    /// step took off (the sides present only).
    /// </summary>
    private static string Waterfall(InterleavedRun run)
    {
        // From the callback-only ceiling where the run has it; the independent setting's starts at the whole login.
        var first = run.Warmups.ContainsKey("ceiling") ? "ceiling" : "ceiling-login";
        if (!run.Warmups.ContainsKey(first)) return "";
        var ceiling = Pooled(run.Blocks.Where(b => b.Side == first));
        var previous = 1.0;
        var steps = new List<string>();
        foreach (var (side, step) in Steps.Where(s => s.Side != first && run.Warmups.ContainsKey(s.Side)))
        {
            var share = Pooled(run.Blocks.Where(b => b.Side == side)) / ceiling;
            steps.Add(string.Create(CultureInfo.InvariantCulture, $"+ {step} → {share:F2}× ({share - previous:+0.00;-0.00})"));
            previous = share;
        }
        return $"- From the ceiling (1.00×) to O8Actors, over all blocks: {string.Join("; ", steps)}.{Environment.NewLine}";
    }

    private static double Work(IReadOnlyList<Block> blocks, Func<DriverWork, double> part)
    {
        var logins = blocks.Sum(b => b.Measured.Completed);
        return logins == 0 ? 0 : blocks.Sum(b => part(b.DriverWork) * b.Measured.Completed) / logins;
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
