using System.Globalization;
using O8Actors.Benchmarks.Driver;

namespace O8Actors.Benchmarks.Report;

/// <summary>The issue's targets, checked against one run's rows: (target, measured, met?).</summary>
internal static class Targets
{
    public static IEnumerable<(string Target, string Measured, bool? Met)> Check(IReadOnlyList<Row> rows, int[] levels)
    {
        var top = levels.Max();
        Row? Find(string kind, string name, int c) => rows.FirstOrDefault(r => r.Kind == kind && r.Name == name && r.Concurrency == c);

        var o8Http = Find("o8", "O8Actors http", top);
        // Issue 15: against the best peer of the same run, whichever variant that is.
        var peer = rows.Where(r => r.Kind == "oidc" && r.Concurrency == top).MaxBy(r => r.PerSecond);
        if (o8Http is not null)
            yield return ("O8 http CPU per login ≤ 0.5 ms (concurrency " + top + ")", $"{F(o8Http.CpuMsPerLogin)} ms", o8Http.CpuMsPerLogin <= 0.5);
        if (o8Http is not null && peer is not null)
        {
            // Within each round, against that round's best peer; met on the median of the rounds' ratios.
            var ratios = RoundRatios(o8Http, rows.Where(r => r.Kind == "oidc" && r.Concurrency == top).ToArray());
            yield return ($"O8 http logins/s ≥ 2.5× the best peer of the same round at concurrency {top}",
                $"{o8Http.PerSecond:F0} vs {peer.PerSecond:F0} ({peer.Name}) on the medians{PerRound(ratios)}", Median(ratios) >= 2.5);
        }
        if (o8Http is not null && peer is not null && !double.IsNaN(o8Http.DriverCpuMsPerLogin))
        {
            // The driver and the measured process share the machine's CPUs, so CPU per login bounds logins/s.
            var cores = Environment.ProcessorCount;
            var bound = cores * 1000 / (o8Http.CpuMsPerLogin + o8Http.DriverCpuMsPerLogin);
            yield return ($"(What the CPUs allow: {cores} CPUs / (O8 {F(o8Http.CpuMsPerLogin)} + driver {F(o8Http.DriverCpuMsPerLogin)} ms per login))",
                $"at most {bound:F0} logins/s = {F(bound / peer.PerSecond)}× the peer", null);
        }
        foreach (var label in new[] { "RSA-2048", "ECDSA P-256" })
        {
            var names = RowNames($"https ({label})");
            var o8 = Find("o8", names.O8, top);
            var ceiling = Find("ceiling", names.Ceiling, top);
            if (o8 is not null && ceiling is not null)
            {
                var ratios = RoundRatios(o8, [ceiling]);
                yield return ($"O8 https ({label}) logins/s ≥ 0.9× the ceiling's requests/s of the same round, concurrency {top}",
                    $"{o8.PerSecond:F0} vs {ceiling.PerSecond:F0} on the medians{PerRound(ratios)}", Median(ratios) >= 0.9);
            }
        }

        // The lean login (--rows lean): what a login that also exchanges its code makes of the same machine. Readings for
        // the https target, not targets of their own.
        foreach (var label in new[] { "https (RSA-2048)", "https (ECDSA P-256)", "http" })
        {
            var names = RowNames(label);
            if (Find("lean", names.Lean, top) is not { } lean) continue;
            if (Find("ceiling", names.Ceiling, top) is { } ceiling)
                yield return ($"(Reading: the lean login {label} against the ceiling, same round)",
                    $"{lean.PerSecond:F0} vs {ceiling.PerSecond:F0} on the medians{PerRound(RoundRatios(lean, [ceiling]))}", null);
            if (Find("o8", names.O8, top) is { } o8)
                yield return ($"(Reading: O8Actors {label} against the lean login, same round)",
                    $"{o8.PerSecond:F0} vs {lean.PerSecond:F0} on the medians{PerRound(RoundRatios(o8, [lean]))}; CPU per login {F(o8.CpuMsPerLogin)} vs {F(lean.CpuMsPerLogin)} ms", null);
        }

        if (rows.FirstOrDefault(r => r.Kind == "pending") is { Result.Extra: { } extra })
        {
            var counts = extra.Keys.Where(k => k.StartsWith("managed_per_pending_", StringComparison.Ordinal))
                .Select(k => int.Parse(k["managed_per_pending_".Length..], CultureInfo.InvariantCulture)).Order().ToArray();
            var most = counts[^1];
            var least = counts[0];
            var managed = extra[$"managed_per_pending_{most}"];
            yield return ($"≤ 2 KB managed per pending login ({most:N0} pending)", $"{managed:F0} B", managed <= 2048);
            var startRatio = extra[$"start_ms_{most}"] / extra[$"start_ms_{least}"];
            var routeRatio = extra[$"route_ms_{most}"] / extra[$"route_ms_{least}"];
            yield return ($"Start time at {most:N0} pending ≤ 1.25× that at {least:N0}",
                $"{F(extra[$"start_ms_{most}"])} vs {F(extra[$"start_ms_{least}"])} ms = {F(startRatio)}×", startRatio <= 1.25);
            yield return ($"Route time at {most:N0} pending ≤ 1.25× that at {least:N0}",
                $"{F(extra[$"route_ms_{most}"])} vs {F(extra[$"route_ms_{least}"])} ms = {F(routeRatio)}×", routeRatio <= 1.25);
        }

        var ours = rows.Where(r => r.Kind != "oidc").Sum(r => r.FailedInAllRuns);
        yield return ("0 failures in every O8Actors row (and the ceilings' and lean logins')", $"{ours} failures", ours == 0);
        // The peers' failures are the one-listener-per-login pattern's port races: reported, not a target of ours.
        var peers = rows.Where(r => r.Kind == "oidc").ToArray();
        if (peers.Length > 0)
            yield return ("The peers' rows (for comparison, not a target)",
                $"{peers.Sum(r => r.FailedInAllRuns)} of {peers.Sum(r => r.N * (r.Runs?.Count ?? 1)):N0} logins failed", null);
    }

    /// <summary>A row's runs in round order (a row run once is its own one run).</summary>
    private static IReadOnlyList<Row> RunsOf(Row row) => row.Runs ?? [row];

    /// <summary>
    /// <paramref name="ours"/>' logins/s over the best of <paramref name="theirs"/> in each round that every row ran (the
    /// rows run in rounds, every row once per round, so a round's runs are minutes apart while a row's repeats are a
    /// round apart).
    /// </summary>
    private static double[] RoundRatios(Row ours, IReadOnlyList<Row> theirs)
    {
        var rounds = theirs.Select(r => RunsOf(r).Count).Append(RunsOf(ours).Count).Min();
        return Enumerable.Range(0, rounds).Select(k => RunsOf(ours)[k].PerSecond / theirs.Max(r => RunsOf(r)[k].PerSecond)).ToArray();
    }

    /// <summary>The rows' names for one scheme and certificate, as the driver names them ("https (RSA-2048)", "http").</summary>
    private static (string O8, string Ceiling, string Lean) RowNames(string label) => (
        $"O8Actors {label.Replace("https (", "https (mkcert ", StringComparison.Ordinal)}", $"Bare Kestrel {label}", $"Lean login {label}");

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

    /// <summary>", per round a×, b×, c× (median m×)", or "= r×" for a single round.</summary>
    private static string PerRound(double[] ratios) => ratios.Length == 1
        ? $" = {F(ratios[0])}×"
        : $"; per round {string.Join(", ", ratios.Select(r => F(r) + "×"))} (median {F(Median(ratios))}×)";

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
