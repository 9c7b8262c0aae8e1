using System.Globalization;

namespace O8Actors.Benchmarks.Profiling;

/// <summary>
/// CPU time per thread name of this process, read from <c>/proc/self/task</c> (Linux only; empty elsewhere). The
/// runtime names its threads (".NET TP Worker", ".NET Tiered Com", ".NET BGC", ...), so the difference of two
/// snapshots says where a phase's CPU went — the JIT's background tier-up included, which the runtime's own
/// compile-time counter reports as wall time (a compile that waits for a CPU counts its wait), not CPU.
/// </summary>
internal static class ThreadCpu
{
    /// <summary>The start of the name the runtime gives its tier-up thread (".NET Tiered Compilation Worker", cut to 15 characters).</summary>
    public const string TieringThread = ".NET Tiered Com";

    /// <summary>Milliseconds of CPU per thread name, summed over the threads of that name alive now.</summary>
    public static Dictionary<string, double> Snapshot() =>
        Threads().GroupBy(t => t.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(t => t.Ms), StringComparer.Ordinal);

    private static readonly Lock TieringGate = new();
    private static readonly Dictionary<string, double> TieringSeen = new(StringComparer.Ordinal);

    /// <summary>
    /// The CPU the tier-up threads have used so far, in milliseconds (0 where it cannot be read). The runtime ends its
    /// tier-up thread after a few idle seconds and starts a new one when work comes, so this sums every such thread seen,
    /// each at the last value read (a thread's CPU between that read and its end is missed): it never goes backwards.
    /// </summary>
    public static double TieringMs()
    {
        lock (TieringGate)
        {
            foreach (var (id, _, ms) in Threads().Where(t => t.Name.StartsWith(TieringThread, StringComparison.Ordinal))) TieringSeen[id] = ms;
            return TieringSeen.Values.Sum();
        }
    }

    /// <summary>This process's live threads: id, name and CPU so far (none where <c>/proc</c> is missing).</summary>
    private static List<(string Id, string Name, double Ms)> Threads()
    {
        var threads = new List<(string, string, double)>();
        if (!Directory.Exists("/proc/self/task")) return threads;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                threads.Add((Path.GetFileName(task), File.ReadAllText(Path.Combine(task, "comm")).Trim(), CpuMs(task)));
            }
            catch (IOException)
            {
                // The thread ended between listing and reading.
            }
        }
        return threads;
    }

    /// <summary>The CPU per thread name spent between two snapshots, largest first (threads that ended meanwhile are missing).</summary>
    public static IEnumerable<(string Name, double Ms)> Between(Dictionary<string, double> before, Dictionary<string, double> after) =>
        after.Select(p => (p.Key, p.Value - before.GetValueOrDefault(p.Key)))
            .Where(p => p.Item2 > 0)
            .OrderByDescending(p => p.Item2);

    private static double CpuMs(string task)
    {
        // schedstat's first field is the time on a CPU in nanoseconds; stat's utime + stime only count 10 ms ticks.
        var schedstat = Path.Combine(task, "schedstat");
        if (File.Exists(schedstat))
            return long.Parse(File.ReadAllText(schedstat).Split(' ')[0], CultureInfo.InvariantCulture) / 1e6;
        var stat = File.ReadAllText(Path.Combine(task, "stat"));
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after the name: utime is the 12th field, stime the 13th
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }
}
