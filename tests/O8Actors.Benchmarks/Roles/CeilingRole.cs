using Microsoft.AspNetCore.Builder;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// The ceiling: a bare Kestrel endpoint on loopback with the same certificate and protocols as the O8 listener,
/// answering <c>GET /callback</c> with an empty 200. The driver sends the requests; this process reports its CPU.
/// </summary>
internal static class CeilingRole
{
    public static async Task<int> RunAsync(Args args)
    {
        using var certificate = BenchCertificates.Load(args);
        await using var app = BareKestrel.Build(0, certificate);
        app.Run(context =>
        {
            context.Response.StatusCode = context.Request.Path == "/callback" ? 200 : 404;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        var address = app.Urls.First().Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        Wire.Send("READY", address.TrimEnd('/') + "/callback");

        // Until MARK, the driver warms this process up and asks how far its JIT has got.
        while (await Wire.ExpectAnyAsync() == "JIT") Wire.Send("JITSTATE", Profiling.JitState.Now().ToWire());
        // Each MARK ... DONE is one measured phase; in the interleaved mode (--blocks) the driver marks one per block.
        var blocks = args.Has("blocks");
        do
        {
            var cpu = ProcessMeter.Cpu();
            var tiering = Profiling.ThreadCpu.TieringMs();
            Wire.Send("MARKED", "");
            await Wire.ExpectAsync("DONE");
            var cpuMs = (ProcessMeter.Cpu() - cpu).TotalMilliseconds;
            var extra = new Dictionary<string, double> { ["jit_cpu_ms_measured"] = Profiling.ThreadCpu.TieringMs() - tiering };
            Wire.Send(blocks ? "BLOCKDONE" : "RESULT", new RowResult(0, 0, 0, cpuMs, ProcessMeter.PeakRss(), 0, 0, Extra: extra).ToJson());
        }
        while (blocks && await Wire.NextLineAsync() is { } line && line.StartsWith("MARK", StringComparison.Ordinal));

        await app.StopAsync();
        return 0;
    }
}
