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
    public static async Task RunAsync(int n, int concurrency, Func<int, Task> login)
    {
        var (warmed, settled) = await Warmup.UntilJitQuietAsync(concurrency, login);
        Wire.Send("MEASURING", "");
        var profile = Profiling.RuntimeProfile.Start(detailed: false);
        var cpu = ProcessMeter.Cpu();
        var (latencies, failed, firstFailure, wall) = await LoadLoop.RunAsync(n, concurrency, i => login(i + 1_000_000));
        var cpuMs = (ProcessMeter.Cpu() - cpu).TotalMilliseconds;
        var extra = profile.Stop(latencies.Count + failed, "measured");
        extra["warmup"] = warmed;
        extra["warmup_settled"] = settled ? 1 : 0;
        Wire.Send("RESULT", new RowResult(latencies.Count, failed, wall.TotalSeconds, cpuMs, ProcessMeter.PeakRss(),
            Percentiles.Of(latencies, 50), Percentiles.Of(latencies, 99), firstFailure, extra).ToJson());
    }
}
