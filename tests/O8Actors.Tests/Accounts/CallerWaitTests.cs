using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Flows;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// How long GetAccessTokenAsync waits for the account's actor, and what it throws when it stops waiting. An interactive
/// request used to wait only o8.login.timeout plus margins (about 5 minutes), while a device login runs until its code
/// expires (15 minutes at GitHub): the caller got Akka's AskTimeoutException while the login went on polling.
/// </summary>
public sealed class CallerWaitTests
{
    private static AccountSettings Settings(TimeSpan loginTimeout) =>
        new(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), new O8Settings.LoginSettings(loginTimeout, TimeSpan.FromSeconds(30), true, 10, 10));

    [Fact]
    public void An_interactive_caller_without_a_timeout_waits_longer_than_the_longest_device_login()
    {
        var settings = Settings(TimeSpan.FromSeconds(120)); // the shipped o8.login.timeout

        Assert.True(settings.CallerWait(interactive: true, loginTimeout: null) > FlowActor.MaximumDeviceLoginTime);
        // A configured browser timeout longer than that still counts.
        Assert.True(Settings(TimeSpan.FromHours(2)).CallerWait(true, null) > TimeSpan.FromHours(2));
        // A login's own timeout bounds the device login too, so it is what the caller waits for.
        Assert.True(settings.CallerWait(true, TimeSpan.FromSeconds(30)) < FlowActor.MaximumDeviceLoginTime);
        Assert.True(settings.CallerWait(true, TimeSpan.FromSeconds(30)) > TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void A_caller_that_stops_waiting_throws_the_librarys_own_timeout_not_akkas()
    {
        var account = new OAuthAccount("github", "alice");

        var interactive = Assert.IsType<AuthorizationTimeoutException>(LoginClient.CallerGaveUp(account, true, TimeSpan.FromMinutes(31)));
        Assert.Equal(TimeSpan.FromMinutes(31), interactive.Timeout);
        var silent = Assert.IsType<AuthorizationFailedException>(LoginClient.CallerGaveUp(account, false, TimeSpan.FromSeconds(50)));
        Assert.Equal(LoginFailure.ExchangeTimeout, silent.Failure);
    }
}
