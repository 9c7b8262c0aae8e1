using O8Actors.Flows;

namespace O8Actors.Tests.Flows;

/// <summary>
/// What an <see cref="AuthorizationTimeoutException"/> tells its reader: a browser login was not redirected back (no
/// listener named: in server mode the web app's own endpoint takes the redirect), a device login's user did not approve
/// the code. The type stays the same for both, so callers catch one exception.
/// </summary>
public sealed class TimeoutMessageTests
{
    [Fact]
    public void A_browser_login_says_the_browser_was_not_redirected_back_without_naming_a_listener()
    {
        var timedOut = AuthorizationTimeoutException.For(new LoginTimedOut("login-1", TimeSpan.FromSeconds(90)));

        Assert.Contains("browser was not redirected back", timedOut.Message);
        Assert.Contains("90 seconds", timedOut.Message);
        Assert.DoesNotContain("listener", timedOut.Message);
        Assert.Equal("login-1", timedOut.LoginId);
        Assert.Equal(TimeSpan.FromSeconds(90), timedOut.Timeout);
    }

    [Fact]
    public void A_device_login_says_the_user_did_not_approve_the_device_code()
    {
        var timedOut = AuthorizationTimeoutException.For(new LoginTimedOut("login-2", TimeSpan.FromMinutes(10)) { Waiting = TimedOutWaiting.DeviceApproval });

        Assert.Contains("did not approve the device code within 600 seconds", timedOut.Message);
        Assert.DoesNotContain("redirect", timedOut.Message);
        Assert.Equal("login-2", timedOut.LoginId);
    }

    [Fact]
    public void A_caller_that_stops_waiting_for_an_interactive_login_names_the_account_not_a_redirect()
    {
        var timedOut = Assert.IsType<AuthorizationTimeoutException>(
            O8Actors.LoginClient.CallerGaveUp(new OAuthAccount("github", "alice"), interactive: true, TimeSpan.FromMinutes(31)));

        Assert.Contains("interactive login of", timedOut.Message);
        Assert.Contains("alice", timedOut.Message);
        Assert.DoesNotContain("redirect", timedOut.Message);
    }
}
