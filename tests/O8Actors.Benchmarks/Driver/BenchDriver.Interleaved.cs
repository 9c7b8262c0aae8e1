using System.Threading.Channels;

namespace O8Actors.Benchmarks.Driver;

/// <summary>One measured block of the interleaved mode: which side, which cycle, and what it cost.</summary>
/// <param name="Side">o8, ceiling, ceiling-login, lean or lean-oidc.</param>
/// <param name="Cycle">The cycle it ran in (every side runs one block per cycle).</param>
/// <param name="Measured">The measured process's figures for the block (the ceiling's timings are this driver's).</param>
/// <param name="LoadCpuMs">
/// The CPU over the block of what loads the measured process: this driver's (browser + authorization server) in this
/// harness, the authorization server's in the independent setting (its browser is a process of its own).
/// </param>
internal sealed record Block(string Side, int Cycle, RowResult Measured, double LoadCpuMs)
{
    /// <summary>The driver's HTTP work per login over the block (requests served and sent, connections).</summary>
    public DriverWork DriverWork { get; init; } = new(0, 0, 0);

    public double PerSecond => Measured.WallSeconds > 0 ? Measured.Completed / Measured.WallSeconds : 0;
}

/// <summary>What an interleaved run of one certificate measured: each side's warm-up and its blocks, in run order.</summary>
/// <param name="Independent">
/// The independent setting's run: its ceiling is the login ceiling (the target's), the load beside the measured app is
/// the authorization server's CPU, and no driver serves or sends requests.
/// </param>
internal sealed record InterleavedRun(string Label, int Concurrency, int BlockSize, int Cycles,
    IReadOnlyDictionary<string, (int Logins, bool Settled, int Failed)> Warmups, IReadOnlyList<Block> Blocks, bool Independent = false);

/// <summary>
/// The interleaved mode (<c>--interleave</c>): the O8Actors row, its ceiling, the login ceiling and the lean login of one
/// certificate run side by side, each in a warm process of its own, and are measured in alternating blocks (O8Actors,
/// ceiling, login ceiling, lean, then ceiling, login ceiling, lean, O8Actors, …), so that a machine that drifts over
/// minutes moves all sides alike. The rounds of the
/// default mode compare runs a minute apart, and on a 2-vCPU machine their ratios moved by up to 0.6 between rounds.
/// </summary>
internal sealed partial class BenchDriver
{
    /// <summary>Runs <paramref name="cycles"/> cycles of one <paramref name="blockSize"/>-login block per side.</summary>
    /// <param name="leanOidc">Also the lean login's OpenID Connect variant (<c>lean-oidc</c>: a nonce per login, the ID token checked by hand).</param>
    public async Task<InterleavedRun> InterleavedAsync(string label, string scheme, string cert, int blockSize, int cycles, int concurrency,
        bool leanOidc = false)
    {
        // One side warms at a time, as in the default mode, so no warm-up shares the CPUs with another.
        await using var o8 = await StartLoginBlocksAsync("o8", "o8", scheme, cert, concurrency);
        await using var lean = await StartLoginBlocksAsync("lean", "lean", scheme, cert, concurrency);
        await using var oidc = leanOidc ? await StartLoginBlocksAsync("lean", "lean-oidc", scheme, cert, concurrency, "--check-id-token") : null;
        // The independent setting's ceiling: the browser's whole login against bare Kestrel, the code never redeemed.
        await using var loginCeiling = await StartLoginBlocksAsync("lean", "ceiling-login", scheme, cert, concurrency, "--no-exchange");
        await using var ceiling = await StartCeilingBlocksAsync(scheme, cert, concurrency);
        BlockSide[] sides = oidc is null ? [o8, ceiling, loginCeiling, lean] : [o8, ceiling, loginCeiling, lean, oidc];
        var blocks = new List<Block>();
        for (var cycle = 0; cycle < cycles; cycle++)
        {
            // Each cycle starts one side later, so every side runs first, second and third equally often.
            for (var k = 0; k < sides.Length; k++)
            {
                var side = sides[(cycle + k) % sides.Length];
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var before = Counters.Now();
                var block = await side.MeasureAsync(cycle, blockSize);
                block = block with { DriverWork = Counters.Now().PerLoginSince(before, block.Measured.Completed) };
                blocks.Add(block);
                // The monotonic clock's seconds at the block's start and end, to line a profile (perf record -k mono) up with it.
                Console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"  cycle {cycle + 1}/{cycles} {side.Name}: {block.PerSecond:F0}/s, {block.Measured.CpuMs / Math.Max(1, block.Measured.Completed):F2} ms CPU per login, {block.Measured.Failed} failed (monotonic {Seconds(started):F3}-{Seconds(System.Diagnostics.Stopwatch.GetTimestamp()):F3} s)"));
            }
        }

        return new InterleavedRun(label, concurrency, blockSize, cycles, sides.ToDictionary(s => s.Name, s => s.Warmup), blocks);
    }

    // The driver's HTTP work per block, from the runtime's meters (one listener for the process's life).
    private static readonly DriverCounters Counters = new();

    private static double Seconds(long timestamp) => timestamp / (double)System.Diagnostics.Stopwatch.Frequency;

    private async Task<LoginBlockSide> StartLoginBlocksAsync(string role, string name, string scheme, string cert, int concurrency, params string[] extra)
    {
        var replies = Channel.CreateUnbounded<(string Verb, string Payload)>();
        Child? child = null;
        child = Child.Start(role, ["--scheme", scheme, "--cert", cert, "--certs", certificates, "--concurrency", $"{concurrency}", "--blocks", .. extra],
            LoginChildLines($"{name}-blocks", () => child!, async (verb, payload) => await replies.Writer.WriteAsync((verb, payload))));
        var side = new LoginBlockSide(name, child, replies.Reader);
        var warmed = (await side.NextAsync("WARMED")).Split(' ');
        side.Warmup = (int.Parse(warmed[0], System.Globalization.CultureInfo.InvariantCulture), warmed[1] == "1",
            int.Parse(warmed[2], System.Globalization.CultureInfo.InvariantCulture));
        return side;
    }

    private async Task<CeilingBlockSide> StartCeilingBlocksAsync(string scheme, string cert, int concurrency)
    {
        var replies = Channel.CreateUnbounded<(string Verb, string Payload)>();
        var child = Child.Start("ceiling", ["--scheme", scheme, "--cert", cert, "--certs", certificates, "--blocks"],
            async (verb, payload) => await replies.Writer.WriteAsync((verb, payload)));
        var side = new CeilingBlockSide(child, replies.Reader);
        var url = new Uri((await side.NextAsync("READY")).Replace("http://", $"{scheme}://", StringComparison.Ordinal));
        side.Measure = size => MeasureCeilingAsync(child, () => side.NextAsync("MARKED"), () => side.NextAsync("BLOCKDONE"), url, size, concurrency);
        // The rule every measured process follows: warm at the measured concurrency until the child's JIT has settled.
        var (warmed, warmFailed, settled) = await Warmup.UntilQuietAsync(concurrency, _ => LandAsync(url), async () =>
        {
            await child.SendAsync("JIT");
            return Profiling.JitState.FromWire(await side.NextAsync("JITSTATE"));
        });
        side.Warmup = (warmed, settled, warmFailed);
        return side;
    }

    /// <summary>A warm child that measures a block when asked.</summary>
    private abstract class BlockSide(string name, Child child, ChannelReader<(string Verb, string Payload)> replies) : IAsyncDisposable
    {
        public string Name => name;

        public (int Logins, bool Settled, int Failed) Warmup { get; set; }

        protected Child Child => child;

        public abstract Task<Block> MeasureAsync(int cycle, int size);

        /// <summary>The payload of the child's next <paramref name="verb"/> line.</summary>
        public async Task<string> NextAsync(string verb)
        {
            while (true)
            {
                var (got, payload) = await replies.ReadAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(10));
                if (got == verb) return payload;
            }
        }

        public ValueTask DisposeAsync() => child.DisposeAsync();
    }

    /// <summary>O8Actors or the lean login: the child runs the block's logins itself, through this driver's browser.</summary>
    private sealed class LoginBlockSide(string name, Child child, ChannelReader<(string Verb, string Payload)> replies)
        : BlockSide(name, child, replies)
    {
        public override async Task<Block> MeasureAsync(int cycle, int size)
        {
            var driverCpu = ProcessMeter.Cpu();
            await Child.SendAsync($"BLOCK {size}");
            var result = RowResult.FromJson(await NextAsync("BLOCKDONE"));
            return new Block(Name, cycle, result, (ProcessMeter.Cpu() - driverCpu).TotalMilliseconds);
        }
    }

    /// <summary>The ceiling: this driver sends the block's requests; the child reports its CPU between MARK and DONE.</summary>
    private sealed class CeilingBlockSide(Child child, ChannelReader<(string Verb, string Payload)> replies)
        : BlockSide("ceiling", child, replies)
    {
        /// <summary>Measures one block of the given size (set once the ceiling's address is known).</summary>
        public Func<int, Task<(RowResult Result, double DriverCpuMs)>>? Measure { get; set; }

        public override async Task<Block> MeasureAsync(int cycle, int size)
        {
            var (result, driverCpuMs) = await (Measure ?? throw new InvalidOperationException("Not started."))(size);
            return new Block(Name, cycle, result, driverCpuMs);
        }
    }
}
