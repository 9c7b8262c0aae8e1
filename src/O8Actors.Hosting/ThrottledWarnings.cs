using Microsoft.Extensions.Logging;

namespace O8Actors.Hosting;

/// <summary>
/// At most one Warning per key (a provider's name) per <see cref="Interval"/>; the lines in between are written at
/// Debug. For faults that anyone can set off as fast as they can send requests (a back-channel logout post while the
/// provider's key set cannot be read, or for a provider without one): the app hears of the fault, and nobody can flood
/// its log with it.
/// </summary>
internal sealed class ThrottledWarnings(TimeProvider time, TimeSpan interval)
{
    /// <summary>
    /// The most keys remembered. Keys are registered providers' names (an unknown name is refused before it gets here),
    /// but they come from the request's path, so the table is bounded all the same; a key past it is logged at Debug.
    /// </summary>
    public const int MaxKeys = 256;

    private readonly Dictionary<string, long> _lastWarning = new(StringComparer.Ordinal);

    /// <summary>How long a key's Warning silences the next ones.</summary>
    public TimeSpan Interval { get; } = interval;

    /// <summary>The level to write <paramref name="key"/>'s line at now: Warning, or Debug within <see cref="Interval"/> of its last Warning.</summary>
    public LogLevel LevelFor(string key)
    {
        var now = time.GetTimestamp();
        lock (_lastWarning)
        {
            if (_lastWarning.TryGetValue(key, out var last) ? time.GetElapsedTime(last, now) < Interval : _lastWarning.Count >= MaxKeys)
                return LogLevel.Debug;
            _lastWarning[key] = now;
            return LogLevel.Warning;
        }
    }
}
