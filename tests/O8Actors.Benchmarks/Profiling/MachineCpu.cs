using System.Globalization;

namespace O8Actors.Benchmarks.Profiling;

/// <summary>
/// The whole machine's CPU time, idle and total, from the first line of <c>/proc/stat</c> (Linux only; zeros elsewhere).
/// The difference of two readings says whether the CPUs stood idle over a block: with every process of a setting on the
/// same CPUs, a block that leaves none idle is bound by the CPU its logins cost over all processes, not by waiting.
/// </summary>
internal readonly record struct MachineCpu(long IdleTicks, long TotalTicks)
{
    /// <summary>The machine's counters now.</summary>
    public static MachineCpu Now()
    {
        if (!File.Exists("/proc/stat")) return default;
        // cpu user nice system idle iowait irq softirq steal ...: idle and iowait are the time no process could use.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return new MachineCpu(fields[3] + fields[4], fields.Sum());
    }

    public static MachineCpu operator -(MachineCpu after, MachineCpu before) =>
        new(after.IdleTicks - before.IdleTicks, after.TotalTicks - before.TotalTicks);

    public static MachineCpu operator +(MachineCpu a, MachineCpu b) => new(a.IdleTicks + b.IdleTicks, a.TotalTicks + b.TotalTicks);

    /// <summary>The share of the CPUs' time that stood idle (0 when nothing was read).</summary>
    public double IdleShare => TotalTicks > 0 ? IdleTicks / (double)TotalTicks : 0;
}
