using System.Globalization;
using System.Text;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace O8Actors.Benchmarks.Profiling;

/// <summary>
/// <c>--alloc-sites</c>: where a login's bytes are allocated, by the O8Actors method that asked for them. The measured
/// app runs with the runtime's startup EventPipe session on (<see cref="Environment"/>), which samples an allocation
/// about every 100 KB with its stack and writes the trace when the process ends; this reads it and charges each sample
/// to the first O8Actors frame on its stack (the library's own call that led to it, Kestrel's, Duende's and Akka's
/// allocations included), or to "(no O8Actors frame)" for what the host does alone (Kestrel accepting and parsing a
/// connection, the thread pool). A frame counts only below the Akka mailbox run it is under, if any: an actor's
/// system messages (its child table, its watchers) are the mailbox's own work.
/// </summary>
/// <remarks>
/// The trace spans the process's life, warm-up included, so the bytes per login are over every login the app ran. The
/// sampling and the stack walks cost CPU: a run with <c>--alloc-sites</c> shows where bytes go, its row is no
/// measurement of speed.
/// </remarks>
internal static class AllocationSites
{
    private const string Unattributed = "(no O8Actors frame)";
    private const string AkkaMailbox = "(Akka: a mailbox's own work, under no O8Actors frame)";
    private const string MailboxRun = "Akka.Dispatch.Mailbox.Run";

    /// <summary>The app's environment for a traced run, the trace written to <paramref name="tracePath"/>.</summary>
    public static IReadOnlyList<(string Name, string Value)> Environment(string tracePath) =>
    [
        ("DOTNET_EnableEventPipe", "1"),
        // The runtime provider's GC keyword (0x1) at verbose level (5): GCAllocationTick, with a stack each.
        ("DOTNET_EventPipeConfig", "Microsoft-Windows-DotNETRuntime:0x1:5"),
        ("DOTNET_EventPipeOutputPath", tracePath),
    ];

    /// <summary>Reads the trace and writes the report: by O8Actors method, then by method and type.</summary>
    public static string Report(string tracePath, int logins, int top = 60)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(tracePath);
        try
        {
            using var log = new TraceLog(etlx);
            var byMethod = new Dictionary<string, double>(StringComparer.Ordinal);
            var byMethodAndType = new Dictionary<string, double>(StringComparer.Ordinal);
            double total = 0;
            foreach (var e in log.Events)
            {
                if (e is not GCAllocationTickTraceData tick) continue;
                var bytes = (double)tick.AllocationAmount64;
                var method = FirstO8Frame(e.CallStack());
                total += bytes;
                Add(byMethod, method, bytes);
                Add(byMethodAndType, $"{method}  →  {tick.TypeName}", bytes);
            }

            var report = new StringBuilder();
            report.AppendLine(CultureInfo.InvariantCulture, $"sampled bytes per login: {total / logins:0} over {logins:N0} logins (warm-up included)");
            report.AppendLine("by the first O8Actors frame on the allocation's stack (bytes per login):");
            Append(report, byMethod, logins, top);
            report.AppendLine("by that frame and the allocated type:");
            Append(report, byMethodAndType, logins, top * 2);
            return report.ToString();
        }
        finally
        {
            File.Delete(etlx);
        }
    }

    private static string FirstO8Frame(TraceCallStack? stack)
    {
        for (var frame = stack; frame is not null; frame = frame.Caller)
        {
            var name = frame.CodeAddress.FullMethodName;
            // Akka's channel executor runs a mailbox on the thread that woke it, so the frames beyond a mailbox's run
            // belong to whatever completed a task there, not to this allocation: the run is the boundary.
            if (name?.StartsWith(MailboxRun, StringComparison.Ordinal) == true) return AkkaMailbox;
            if (string.IsNullOrEmpty(name) || !name.StartsWith("O8Actors.", StringComparison.Ordinal)) continue;
            var signature = name.IndexOf('(', StringComparison.Ordinal);
            var method = signature < 0 ? name : name[..signature];
            // The harness's own code (the app role writing the URL line) is named as such, not charged to the library.
            return method.StartsWith("O8Actors.Benchmarks.", StringComparison.Ordinal) ? $"[harness] {method}" : method;
        }

        return Unattributed;
    }

    private static void Add(Dictionary<string, double> totals, string key, double bytes) =>
        totals[key] = totals.GetValueOrDefault(key) + bytes;

    private static void Append(StringBuilder report, Dictionary<string, double> totals, int logins, int top)
    {
        foreach (var (key, bytes) in totals.OrderByDescending(p => p.Value).Take(top))
            report.AppendLine(CultureInfo.InvariantCulture, $"{bytes / logins,9:0}  {key}");
    }
}
