using System.Diagnostics;

namespace O8Actors.TestSupport;

/// <summary>
/// Waits, bounded, for state that another thread changes (sandbox counters, recorded events) in tests that are not
/// Akka TestKit classes (those use <c>AwaitConditionAsync</c>/<c>AwaitAssertAsync</c>). One copy, linked into each test
/// project that needs it; it polls every few milliseconds and never waits longer than asked.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="because"/> after <paramref name="within"/> (10 s by default).</summary>
    public static async Task TrueAsync(Func<bool> condition, string because, TimeSpan? within = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = within ?? TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (clock.Elapsed >= limit) throw new TimeoutException($"Timed out after {limit.TotalSeconds:0.#} s waiting until {because}.");
            await Task.Delay(Poll);
        }
    }

    /// <summary>Runs <paramref name="assertion"/> until it stops throwing; rethrows its last failure after <paramref name="within"/>.</summary>
    public static async Task AssertAsync(Func<Task> assertion, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (clock.Elapsed < within)
            {
                await Task.Delay(Poll);
            }
        }
    }

    /// <summary>Synchronous form of <see cref="AssertAsync(Func{Task}, TimeSpan)"/>.</summary>
    public static Task AssertAsync(Action assertion, TimeSpan within) =>
        AssertAsync(() =>
        {
            assertion();
            return Task.CompletedTask;
        }, within);
}
