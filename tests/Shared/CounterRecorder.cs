using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace O8Actors.TestSupport;

/// <summary>
/// Records every measurement of one of O8Actors' counters while it lives, each as <c>"{value} {tag}={value} …"</c> in
/// the order the tags were given, so a test can assert exactly what was counted. One copy, linked into each test
/// project that needs it. The listener is process-wide: use it in test classes that do not run in parallel with others
/// counting the same instrument.
/// </summary>
public sealed class CounterRecorder : IDisposable
{
    private readonly ConcurrentQueue<string> _measurements = new();
    private readonly MeterListener _listener = new();

    /// <summary>Starts recording <paramref name="instrument"/> of the <c>O8Actors</c> meter.</summary>
    public CounterRecorder(string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Name == instrument && published.Meter.Name == "O8Actors") listener.EnableMeasurementEvents(published);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            _measurements.Enqueue($"{value} {string.Join(' ', tags.ToArray().Select(t => $"{t.Key}={t.Value}"))}"));
        _listener.Start();
    }

    /// <summary>What was recorded so far, oldest first.</summary>
    public IReadOnlyList<string> Measurements => _measurements.ToArray();

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}
