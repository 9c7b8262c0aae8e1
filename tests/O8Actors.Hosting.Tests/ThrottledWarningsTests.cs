using Microsoft.Extensions.Logging;

namespace O8Actors.Hosting.Tests;

/// <summary>One Warning per provider per interval, Debug in between: the app hears of a fault nobody can flood its log with.</summary>
public sealed class ThrottledWarningsTests
{
    /// <summary>A monotonic clock the test moves by hand.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    [Fact]
    public void Each_key_gets_one_warning_per_interval_and_debug_in_between()
    {
        var clock = new SteppedClock();
        var warnings = new ThrottledWarnings(clock, TimeSpan.FromMinutes(5));

        Assert.Equal(LogLevel.Warning, warnings.LevelFor("corp"));
        Assert.Equal(LogLevel.Debug, warnings.LevelFor("corp"));
        Assert.Equal(LogLevel.Warning, warnings.LevelFor("github")); // each provider has its own
        clock.Ticks += TimeSpan.FromMinutes(5).Ticks - 1;
        Assert.Equal(LogLevel.Debug, warnings.LevelFor("corp"));
        clock.Ticks += 1;
        Assert.Equal(LogLevel.Warning, warnings.LevelFor("corp"));
        Assert.Equal(LogLevel.Debug, warnings.LevelFor("corp"));
    }

    [Fact]
    public void Past_the_most_keys_it_remembers_a_new_key_is_logged_at_debug_until_the_oldest_warnings_are_an_interval_old()
    {
        var clock = new SteppedClock();
        var warnings = new ThrottledWarnings(clock, TimeSpan.FromMinutes(5));
        for (var i = 0; i < ThrottledWarnings.MaxKeys; i++)
        {
            Assert.Equal(LogLevel.Warning, warnings.LevelFor("p" + i));
            if (i == 0) clock.Ticks += TimeSpan.FromMinutes(1).Ticks; // p0 warned a minute before the others
        }

        Assert.Equal(LogLevel.Debug, warnings.LevelFor("one-too-many"));

        // Five minutes after p0's Warning: p0 is forgotten, which makes room for the new key, the others are still held.
        clock.Ticks += TimeSpan.FromMinutes(4).Ticks;
        Assert.Equal(LogLevel.Warning, warnings.LevelFor("one-too-many"));
        Assert.Equal(LogLevel.Debug, warnings.LevelFor("one-too-many"));
        Assert.Equal(LogLevel.Debug, warnings.LevelFor("p1"));
        Assert.Equal(LogLevel.Debug, warnings.LevelFor("yet-another"));

        // Once the rest are an interval old too, every later provider gets its Warning (an app with a provider per tenant).
        clock.Ticks += TimeSpan.FromMinutes(1).Ticks;
        Assert.Equal(LogLevel.Warning, warnings.LevelFor("yet-another"));
        Assert.Equal(LogLevel.Warning, warnings.LevelFor("p1"));
    }
}
