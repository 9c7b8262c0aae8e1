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
    /// but they come from the request's path, so the table is bounded all the same. When it is full, the keys whose last
    /// Warning is older than <see cref="Interval"/> are forgotten first (they would warn again anyway); a new key that
    /// still finds it full is logged at Debug.
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
            if (_lastWarning.TryGetValue(key, out var last))
            {
                if (time.GetElapsedTime(last, now) < Interval) return LogLevel.Debug;
            }
            else if (_lastWarning.Count >= MaxKeys && !ForgotStale(now))
            {
                return LogLevel.Debug;
            }
            _lastWarning[key] = now;
            return LogLevel.Warning;
        }
    }

    /// <summary>
    /// Removes the keys whose last Warning is <see cref="Interval"/> or more before <paramref name="now"/>; true when any
    /// was removed. Without it, an app with a provider per tenant heard of no fault of its 257th provider for the
    /// process's life. A full sweep of at most <see cref="MaxKeys"/> entries, run only while the table is full.
    /// </summary>
    private bool ForgotStale(long now)
    {
        var before = _lastWarning.Count;
        foreach (var (key, last) in _lastWarning)
            if (time.GetElapsedTime(last, now) >= Interval)
                _lastWarning.Remove(key);
        return _lastWarning.Count < before;
    }
}
