namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// What every login-making child of this harness does once it is ready: warm up at the measured concurrency until its
/// JIT has settled, tell the driver it is measuring (the driver's own CPU is counted from there), run N logins in a
/// closed loop, and send back its result with the runtime's figures for the measured phase.
/// </summary>
internal static class MeasuredRow
{
    /// <param name="n">Logins measured.</param>
    /// <param name="concurrency">Logins in flight at once, in the warm-up and the measured phase.</param>
    /// <param name="login">One login, given its number (the measured phase numbers its logins from 1,000,000, apart from the warm-up's).</param>
    /// <param name="blocks">
    /// Measure in blocks on the driver's command (<c>--blocks</c>, the interleaved mode): after the warm-up this process
    /// answers each <c>BLOCK m</c> with <c>BLOCKDONE</c> and the block's result, until the driver closes its input.
    /// </param>
    public static async Task RunAsync(int n, int concurrency, Func<int, Task> login, bool blocks = false)
    {
        var (warmed, warmFailed, settled) = await Warmup.UntilJitQuietAsync(concurrency, login);
        if (blocks)
        {
            Wire.Send("WARMED", $"{warmed} {(settled ? 1 : 0)} {warmFailed}");
            var offset = 1_000_000;
            while (await Wire.NextLineAsync() is { } line && line.StartsWith("BLOCK ", StringComparison.Ordinal))
            {
                var size = int.Parse(line["BLOCK ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                var first = offset;
                Wire.Send("BLOCKDONE", (await MeasureAsync(size, concurrency, i => login(first + i))).ToJson());
                offset += size;
            }

            return;
        }

        Wire.Send("MEASURING", "");
        var result = await MeasureAsync(n, concurrency, i => login(i + 1_000_000));
        result.Extra!["warmup"] = warmed;
        result.Extra["warmup_settled"] = settled ? 1 : 0;
        result.Extra["warmup_failed"] = warmFailed;
        Wire.Send("RESULT", result.ToJson());
    }

    /// <summary>One measured phase: <paramref name="n"/> logins in a closed loop, this process's CPU and the runtime's figures.</summary>
    /// <param name="detailed">Also the runtime's detail (<c>--profile</c>: JIT'd methods, sampled allocations) on stderr, labelled <paramref name="side"/>.</param>
    internal static async Task<RowResult> MeasureAsync(int n, int concurrency, Func<int, Task> login, bool detailed = false, string side = "measured")
    {
        var profile = Profiling.RuntimeProfile.Start(detailed);
        var cpu = ProcessMeter.Cpu();
        var (latencies, failed, firstFailure, wall) = await LoadLoop.RunAsync(n, concurrency, login);
        var cpuMs = (ProcessMeter.Cpu() - cpu).TotalMilliseconds;
        var extra = profile.Stop(latencies.Count + failed, side);
        return new RowResult(latencies.Count, failed, wall.TotalSeconds, cpuMs, ProcessMeter.PeakRss(),
            Percentiles.Of(latencies, 50), Percentiles.Of(latencies, 99), firstFailure, extra);
    }
}
