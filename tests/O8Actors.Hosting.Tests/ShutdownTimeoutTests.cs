namespace O8Actors.Hosting.Tests;

/// <summary>
/// <see cref="O8HostingOptions.ShutdownTimeout"/> sizes the actor system's shutdown phases: a value that is no wait
/// (zero, negative, infinite) or no sane one (over an hour) is refused where it is set, naming it.
/// </summary>
public sealed class ShutdownTimeoutTests
{
    [Theory]
    [InlineData(-1)] // Timeout.InfiniteTimeSpan: the phases were sized at 5 s and host stop waited for nothing.
    [InlineData(0)]
    [InlineData(3_601_000)]
    [InlineData(long.MaxValue)] // TimeSpan.MaxValue: an OverflowException that named no setting.
    public void A_shutdown_timeout_that_is_no_wait_or_over_an_hour_is_refused_naming_it(long milliseconds)
    {
        var value = milliseconds == long.MaxValue ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(milliseconds);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new O8HostingOptions { ShutdownTimeout = value });

        Assert.Equal(nameof(O8HostingOptions.ShutdownTimeout), error.ParamName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3_600_000)]
    public void A_shutdown_timeout_from_a_millisecond_to_an_hour_is_taken(long milliseconds)
    {
        var value = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Equal(value, new O8HostingOptions { ShutdownTimeout = value }.ShutdownTimeout);
    }
}
