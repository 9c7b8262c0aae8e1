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
    public void Past_the_most_keys_it_remembers_a_new_key_is_logged_at_debug()
    {
        var warnings = new ThrottledWarnings(new SteppedClock(), TimeSpan.FromMinutes(5));
        for (var i = 0; i < ThrottledWarnings.MaxKeys; i++)
            Assert.Equal(LogLevel.Warning, warnings.LevelFor("p" + i));

        Assert.Equal(LogLevel.Debug, warnings.LevelFor("one-too-many"));
    }
}
