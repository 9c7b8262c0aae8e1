using System.Globalization;

namespace O8Actors.Benchmarks.Profiling;

/// <summary>
/// How far a process's JIT has got: methods compiled so far, the CPU of its tier-up thread, and the process's CPU.
/// Two of them, taken around a batch of logins, say whether the batch still paid for compiling (see <see cref="Warmup"/>).
/// </summary>
internal readonly record struct JitState(long Methods, double TieringCpuMs, double ProcessCpuMs)
{
    /// <summary>This process, now.</summary>
    public static JitState Now() =>
        new(System.Runtime.JitInfo.GetCompiledMethodCount(), ThreadCpu.TieringMs(), ProcessMeter.Cpu().TotalMilliseconds);

    /// <summary>The form sent over the wire by a child process.</summary>
    public string ToWire() => string.Create(CultureInfo.InvariantCulture, $"{Methods} {TieringCpuMs:R} {ProcessCpuMs:R}");

    /// <summary>Reads <see cref="ToWire"/>.</summary>
    public static JitState FromWire(string text)
    {
        var parts = text.Split(' ');
        return new(long.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture),
            double.Parse(parts[2], CultureInfo.InvariantCulture));
    }
}
