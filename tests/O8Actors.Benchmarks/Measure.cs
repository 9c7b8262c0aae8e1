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

        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(WorkerAsync))).ConfigureAwait(false);
        return (latencies, failed, firstFailure, clock.Elapsed);
    }
}
