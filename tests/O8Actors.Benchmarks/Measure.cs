using System.Diagnostics;
using System.Text.Json;

namespace O8Actors.Benchmarks;

/// <summary>What a measured process reports about one row: its own CPU and memory, and the latencies it saw.</summary>
internal sealed record RowResult(
    int Completed,
    int Failed,
    double WallSeconds,
    double CpuMs,
    long PeakRssBytes,
    double P50Ms,
    double P99Ms,
    string? FirstFailure = null,
    Dictionary<string, double>? Extra = null)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static RowResult FromJson(string json) => JsonSerializer.Deserialize<RowResult>(json)!;
}

/// <summary>Process CPU time and peak resident set size (Linux <c>VmHWM</c>), read from inside the measured process.</summary>
internal static class ProcessMeter
{
    public static TimeSpan Cpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    public static long PeakRss()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    public static long Rss()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }
}

/// <summary>Latency percentiles.</summary>
internal static class Percentiles
{
    public static double Of(IReadOnlyList<double> samples, double p)
    {
        if (samples.Count == 0) return double.NaN;
        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

/// <summary>Runs <paramref name="count"/> jobs, at most <paramref name="concurrency"/> at once, and times each.</summary>
internal static class LoadLoop
{
    /// <summary>
    /// The longest a loop waits with no job ending; then it fails. Every side's login ends well before it (its own
    /// timeout is 15-60 s), so only a side that stops answering meets it: without a bound a peer whose logins hung left
    /// the whole run waiting (docs/benchmarks.md, "The peers' ports"). One check for the loop, not a timer per job.
    /// </summary>
    public static readonly TimeSpan StallBound = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan StallCheck = TimeSpan.FromSeconds(5);

    public static async Task<(List<double> LatenciesMs, int Failed, string? FirstFailure, TimeSpan Wall)> RunAsync(
        int count, int concurrency, Func<int, Task> job)
    {
        var latencies = new List<double>(count);
        var failed = 0;
        string? firstFailure = null;
        var next = -1;
        var clock = Stopwatch.StartNew();

        async Task WorkerAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await job(i).ConfigureAwait(false);
                    var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    lock (latencies) latencies.Add(ms);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstFailure, $"{ex.GetType().Name}: {ex.Message}", null);
                }
            }
        }

        var all = Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(WorkerAsync)));
        var ended = 0;
        var lastProgress = Stopwatch.GetTimestamp();
        while (await Task.WhenAny(all, Task.Delay(StallCheck)).ConfigureAwait(false) != all)
        {
            int nowEnded;
            lock (latencies) nowEnded = latencies.Count + Volatile.Read(ref failed);
            if (nowEnded != ended) (ended, lastProgress) = (nowEnded, Stopwatch.GetTimestamp());
            else if (Stopwatch.GetElapsedTime(lastProgress) >= StallBound)
                throw new TimeoutException($"No job ended for {StallBound.TotalMinutes:0} minutes ({ended} of {count} ended): the side stopped answering.");
        }

        await all.ConfigureAwait(false);
        return (latencies, failed, firstFailure, clock.Elapsed);
    }
}

/// <summary>
/// Warms a measured process until the JIT has settled: with tiered compilation and dynamic PGO a hot method runs
/// unoptimized, then instrumented, and only later at tier 1, each step after a call count and a delay, compiled by one
/// background thread that shares the CPUs with the load. On 2 vCPUs that takes tens of thousands of logins, so a fixed
/// short warm-up measures the JIT and slow code instead of the steady state a long-running app reaches.
/// </summary>
/// <remarks>
/// Settled: two batches in a row in which at most <see cref="QuietMethods"/> methods were compiled and the tier-up
/// thread used at most <see cref="QuietTieringShare"/> of the process's CPU. Counting methods alone is fooled by the
/// pauses between tiering waves (a batch can compile nothing while hundreds of methods wait for their call count).
/// </remarks>
internal static class Warmup
{
    private const int Batch = 1000;
    private const int MinBatches = 3;
    private const int MaxBatches = 60;
    private const long QuietMethods = 5;
    private const double QuietTieringShare = 0.02;
    private const int QuietInARow = 2;

    /// <summary>
    /// Runs batches of <paramref name="job"/> until this process's JIT has settled; returns the jobs run, how many of them
    /// failed (reported beside the measured failures: a warm-up that fails is no warm-up of the path measured) and whether it settled.
    /// </summary>
    public static Task<(int Ran, int Failed, bool Settled)> UntilJitQuietAsync(int concurrency, Func<int, Task> job) =>
        UntilQuietAsync(concurrency, job, () => Task.FromResult(Profiling.JitState.Now()));

    /// <summary>As <see cref="UntilJitQuietAsync"/>, reading the JIT state of another process.</summary>
    public static async Task<(int Ran, int Failed, bool Settled)> UntilQuietAsync(int concurrency, Func<int, Task> job, Func<Task<Profiling.JitState>> jitState)
    {
        var ran = 0;
        var failed = 0;
        var quietInARow = 0;
        var (batchSize, minBatches, maxBatches) = Limits();
        for (var batch = 1; batch <= maxBatches; batch++)
        {
            var before = await jitState().ConfigureAwait(false);
            var offset = ran;
            failed += (await LoadLoop.RunAsync(batchSize, concurrency, i => job(offset + i)).ConfigureAwait(false)).Failed;
            ran += batchSize;
            // Tier-up compiles run on a background thread after a short delay: give them the chance to show up.
            await Task.Delay(150).ConfigureAwait(false);
            var after = await jitState().ConfigureAwait(false);
            var quiet = after.Methods - before.Methods <= QuietMethods
                && after.TieringCpuMs - before.TieringCpuMs <= QuietTieringShare * (after.ProcessCpuMs - before.ProcessCpuMs);
            quietInARow = quiet ? quietInARow + 1 : 0;
            if (batch >= minBatches && quietInARow >= QuietInARow) return (ran, failed, true);
        }

        return (ran, failed, false);
    }

    /// <summary>The environment variable that caps every process's warm-up (<c>--max-warmup</c>; smoke runs only).</summary>
    public const string CapVariable = "O8_BENCH_MAX_WARMUP";

    /// <summary>
    /// Batch size and batch limits: the rule above, unless <see cref="CapVariable"/> caps the warm-up's logins for a
    /// smoke run on a busy machine (then the figures are not measurements: the JIT is not quiet yet).
    /// </summary>
    private static (int BatchSize, int MinBatches, int MaxBatches) Limits()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(CapVariable), System.Globalization.CultureInfo.InvariantCulture, out var cap) || cap <= 0)
            return (Batch, MinBatches, MaxBatches);
        var size = Math.Min(Batch, cap);
        var max = Math.Max(1, cap / size);
        return (size, Math.Min(MinBatches, max), max);
    }
}
