using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Runtime;
using System.Text;

namespace O8Actors.Benchmarks.Profiling;

/// <summary>
/// What the runtime did during a measured phase, read from inside the measured process: methods the JIT compiled
/// (a warm-up that was long enough leaves none), bytes allocated per login, and — with <c>--profile</c> — which
/// methods were compiled and which types took the sampled allocations (the runtime's <c>GCAllocationTick</c>, one
/// sample about every 100 KB). The profile goes to stderr, never to stdout (the browser's pipe).
/// </summary>
internal sealed class RuntimeProfile : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const EventKeywords JitKeyword = (EventKeywords)0x10;
    private const int MethodJittingStartedId = 145;
    private const int AllocationTickId = 10;

    private readonly ConcurrentDictionary<string, long> _allocatedByType = new();
    private readonly ConcurrentDictionary<string, int> _jitted = new();
    private readonly bool _detailed;
    private EventSource? _runtime;
    private long _jitCountAtStart;
    private TimeSpan _jitTimeAtStart;
    private long _allocatedAtStart;
    private int _gen0AtStart, _gen1AtStart, _gen2AtStart;
    private TimeSpan _gcPauseAtStart;
    private Dictionary<string, double> _threadsAtStart = new();
    private double _tieringAtStart;
    private volatile bool _recording;

    private RuntimeProfile(bool detailed)
    {
        // The base constructor announces the existing sources before this body runs, so the switch happens here.
        _detailed = detailed;
        if (_detailed && _runtime is not null) EnableEvents(_runtime, EventLevel.Verbose, GcKeyword | JitKeyword);
    }

    /// <summary>Starts watching: from here on, JIT and allocations count.</summary>
    public static RuntimeProfile Start(bool detailed)
    {
        var profile = new RuntimeProfile(detailed);
        profile._jitCountAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
        profile._jitTimeAtStart = System.Runtime.JitInfo.GetCompilationTime();
        profile._allocatedAtStart = GC.GetTotalAllocatedBytes(precise: true);
        (profile._gen0AtStart, profile._gen1AtStart, profile._gen2AtStart) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        profile._gcPauseAtStart = GC.GetTotalPauseDuration();
        if (detailed) profile._threadsAtStart = ThreadCpu.Snapshot();
        profile._tieringAtStart = ThreadCpu.TieringMs();
        profile._recording = true;
        return profile;
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name != "Microsoft-Windows-DotNETRuntime") return;
        _runtime = source;
        if (_detailed) EnableEvents(source, EventLevel.Verbose, GcKeyword | JitKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.Payload is null || e.PayloadNames is null) return;
        if (e.EventId == MethodJittingStartedId)
        {
            var name = $"{Field(e, "MethodNamespace")}::{Field(e, "MethodName")}";
            _jitted.AddOrUpdate(name, 1, (_, n) => n + 1);
        }
        else if (e.EventId == AllocationTickId)
        {
            var type = Field(e, "TypeName");
            var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")] ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
            _allocatedByType.AddOrUpdate(type, amount, (_, n) => n + amount);
        }
    }

    private static string Field(EventWrittenEventArgs e, string name)
    {
        var i = e.PayloadNames!.IndexOf(name);
        return i >= 0 ? e.Payload![i]?.ToString() ?? "?" : "?";
    }

    /// <summary>Stops watching and returns the figures per login; writes the detail to stderr when asked for.</summary>
    public Dictionary<string, double> Stop(int logins, string side)
    {
        _recording = false;
        var perLogin = Math.Max(1, logins);
        var figures = new Dictionary<string, double>
        {
            ["alloc_bytes_per_login"] = (GC.GetTotalAllocatedBytes(precise: true) - _allocatedAtStart) / (double)perLogin,
            ["jit_methods_before"] = _jitCountAtStart,
            ["jit_ms_before"] = _jitTimeAtStart.TotalMilliseconds,
            ["jit_methods_measured"] = System.Runtime.JitInfo.GetCompiledMethodCount() - _jitCountAtStart,
            // Wall time inside the JIT (a compile that waits for a CPU counts its wait): kept for reference.
            ["jit_ms_measured"] = (System.Runtime.JitInfo.GetCompilationTime() - _jitTimeAtStart).TotalMilliseconds,
            // CPU of the thread that re-compiles hot methods (tier-up): the JIT's share of the process's CPU.
            ["jit_cpu_ms_measured"] = ThreadCpu.TieringMs() - _tieringAtStart,
            ["gen0"] = GC.CollectionCount(0) - _gen0AtStart,
            ["gc_pause_ms"] = (GC.GetTotalPauseDuration() - _gcPauseAtStart).TotalMilliseconds,
            ["gen1"] = GC.CollectionCount(1) - _gen1AtStart,
            ["gen2"] = GC.CollectionCount(2) - _gen2AtStart,
            ["server_gc"] = GCSettings.IsServerGC ? 1 : 0,
        };
        if (_detailed) Console.Error.Write(Detail(perLogin, side, figures) + Threads(perLogin, side));
        Dispose();
        return figures;
    }

    private string Threads(int logins, string side)
    {
        var text = new StringBuilder();
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture,
            $"[profile {side}] wall time inside the JIT during the measured phase: {(System.Runtime.JitInfo.GetCompilationTime() - _jitTimeAtStart).TotalMilliseconds / logins:F3} ms per login");
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"[profile {side}] CPU per thread name during the measured phase (ms per login; threads that ended are missing):");
        foreach (var (name, ms) in ThreadCpu.Between(_threadsAtStart, ThreadCpu.Snapshot()))
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"  {ms / logins,8:F3}  {name}");
        return text.ToString();
    }

    private string Detail(int logins, string side, Dictionary<string, double> figures)
    {
        var text = new StringBuilder();
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture,
            $"[profile {side}] {figures["alloc_bytes_per_login"]:F0} B allocated per login; {figures["jit_methods_measured"]} methods compiled ({figures["jit_ms_measured"]:F0} ms) during the measured phase, {figures["jit_methods_before"]} ({figures["jit_ms_before"]:F0} ms) before it; GCs gen0/1/2 {figures["gen0"]}/{figures["gen1"]}/{figures["gen2"]}, paused {figures["gc_pause_ms"]:F0} ms; {LastGc(GCKind.Ephemeral)}; {LastGc(GCKind.Background)}");
        var sampled = _allocatedByType.Values.Sum();
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"[profile {side}] sampled allocations by type (bytes per login, share of the sampled bytes):");
        foreach (var (type, bytes) in _allocatedByType.OrderByDescending(p => p.Value).Take(40))
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"  {bytes / (double)logins,8:F0}  {bytes * 100.0 / Math.Max(1, sampled),5:F1}%  {type}");
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"[profile {side}] methods compiled during the measured phase (most often first):");
        foreach (var (method, count) in _jitted.OrderByDescending(p => p.Value).Take(40))
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"  {count,6}  {method}");
        return text.ToString();
    }

    /// <summary>The last collection of a kind: what it promoted, the heap after it and its pause (why GCs cost what they do).</summary>
    private static string LastGc(GCKind kind)
    {
        var info = GC.GetGCMemoryInfo(kind);
        return info.Index == 0 ? $"no {kind} GC" : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"last {kind} GC (gen{info.Generation}): promoted {info.PromotedBytes / 1048576.0:F1} MB, heap {info.HeapSizeBytes / 1048576.0:F0} MB, pause {info.PauseDurations[0].TotalMilliseconds:F1} ms");
    }
}
