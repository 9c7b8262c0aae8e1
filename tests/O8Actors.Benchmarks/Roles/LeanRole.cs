using O8Actors.Benchmarks.Independent;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// The lean login in this harness, in its own process: the ceiling's bare Kestrel (same certificate, protocols and
/// scheduling) that hands out a real authorize URL per login (its state, a fixed PKCE challenge) to the driver's browser
/// and, on the callback, exchanges the code with one hand-written token request to the driver's sandbox before its page.
/// No library, no actors, no ID-token check and no account: the least a correct login costs here, so an O8Actors row
/// can be read against it as well as against the ceiling that exchanges nothing (<see cref="CeilingSide"/>, shared with
/// the independent setting's lean sides).
/// </summary>
internal static class LeanRole
{
    private static readonly TimeSpan PerLogin = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(Args args)
    {
        var n = args.Int("n", 2000);
        var concurrency = args.Int("concurrency", 16);
        using var certificate = BenchCertificates.Load(args);
        var port = O8Actors.TestSupport.FreePorts.Next();
        // The driver registers the client with this redirect URI, then says where its sandbox is.
        Wire.Send("READY", CeilingSide.RedirectUri(port, certificate));
        var go = (await Wire.ExpectAsync("GO")).Split(' ');
        await using var side = await CeilingSide.StartAsync(port, go[0], certificate, exchange: true, publicClientId: go[1]);
        Task Login(int _) => side.LoginAsync(url => Wire.Send("URL", url), PerLogin);

        // The same rule as the O8Actors rows: warm until this process's JIT has settled, at the measured concurrency.
        var (warmed, settled) = await Warmup.UntilJitQuietAsync(concurrency, Login);
        Wire.Send("MEASURING", "");
        var tiering = Profiling.ThreadCpu.TieringMs();
        var cpu = ProcessMeter.Cpu();
        var (latencies, failed, firstFailure, wall) = await LoadLoop.RunAsync(n, concurrency, Login);
        var cpuMs = (ProcessMeter.Cpu() - cpu).TotalMilliseconds;
        var extra = new Dictionary<string, double>
        {
            ["jit_cpu_ms_measured"] = Profiling.ThreadCpu.TieringMs() - tiering,
            ["warmup"] = warmed,
            ["warmup_settled"] = settled ? 1 : 0,
        };
        Wire.Send("RESULT", new RowResult(latencies.Count, failed, wall.TotalSeconds, cpuMs, ProcessMeter.PeakRss(),
            Percentiles.Of(latencies, 50), Percentiles.Of(latencies, 99), firstFailure, extra).ToJson());
        return 0;
    }
}
