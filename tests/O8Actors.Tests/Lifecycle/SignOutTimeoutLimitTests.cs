using O8Actors.Tests.Flows;
using Xunit.Abstractions;

namespace O8Actors.Tests.Lifecycle;

/// <summary>
/// A sign-out's timeout is checked before anything is revoked, as a login's is: positive, and at most a day.
/// TimeSpan.MaxValue overflowed the caller's wait (a bare OverflowException naming no setting), and on a cluster only
/// after the tokens had been revoked.
/// </summary>
[Collection(EndToEnd.SharedOAuthFlowRuntime.Collection)]
public sealed class SignOutTimeoutLimitTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(long.MaxValue)]            // TimeSpan.MaxValue
    [InlineData(TimeSpan.TicksPerDay + 1)] // a tick past a day
    [InlineData(0L)]
    public async Task A_sign_out_timeout_that_is_not_positive_or_longer_than_a_day_is_refused_naming_the_limit(long ticks)
    {
        await using var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), output: output);
        var account = new OAuthAccount(LoginsTestSupport.Provider, "alice");

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            flows.SignOutAsync(account, new SignOutOptions(EndProviderSession: true, Timeout: TimeSpan.FromTicks(ticks))));

        Assert.Contains("at most one day", error.Message);
    }
}
