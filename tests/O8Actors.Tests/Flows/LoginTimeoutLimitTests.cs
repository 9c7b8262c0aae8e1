namespace O8Actors.Tests.Flows;

/// <summary>
/// A login's own timeout is checked before the login starts: positive, and at most a day. TimeSpan.MaxValue used to pass,
/// and then overflowed the scheduler's deadline (firing at once) and the caller's wait (an OverflowException).
/// </summary>
public sealed class LoginTimeoutLimitTests
{
    [Theory]
    [InlineData(long.MaxValue)]                           // TimeSpan.MaxValue
    [InlineData(TimeSpan.TicksPerDay + 1)]                // a tick past a day
    [InlineData(0L)]
    [InlineData(-TimeSpan.TicksPerSecond)]
    public void A_timeout_that_is_not_positive_or_longer_than_a_day_is_refused_with_a_clear_message(long ticks)
    {
        var request = new AuthorizationRequest(Timeout: TimeSpan.FromTicks(ticks));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => AuthorizationRequest.ThrowIfInvalid(request, "request"));

        Assert.Equal("request", error.ParamName);
        Assert.Contains("login timeout must be", error.Message);
    }

    [Fact]
    public void A_day_is_accepted_and_so_is_the_caller_wait_it_makes()
    {
        var request = new AuthorizationRequest(Timeout: TimeSpan.FromDays(1));

        AuthorizationRequest.ThrowIfInvalid(request, "request");
        var settings = new O8Actors.Accounts.AccountSettings(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30),
            new O8Actors.Configuration.O8Settings.LoginSettings(TimeSpan.FromMinutes(4), TimeSpan.FromSeconds(30), true, 10, 10));
        Assert.True(settings.CallerWait(true, request.Timeout) > TimeSpan.FromDays(1));
    }
}
