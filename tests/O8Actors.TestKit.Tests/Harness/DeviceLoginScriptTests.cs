using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// A login script decides a login's fate however the login runs: an app whose logins are device logins (RFC 8628:
/// <c>o8.login.method = device</c>, or server mode) plays it through the sandbox's device user and its polls. Before,
/// the script reached only the browser and the code exchange, and a device login approved whatever it said: a test of
/// a refusal exercised the approval path.
/// </summary>
public sealed class DeviceLoginScriptTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static Task<O8TestHarness> StartAsync() => O8TestHarness.StartAsync(o =>
    {
        o.ConfigureSandbox = sandbox => sandbox.DevicePollInterval = TimeSpan.FromSeconds(1);
        o.ConfigureLogins = setup => setup.Options.Login.Method = LoginMethod.Device;
    });

    [Fact]
    public async Task A_denial_script_is_refused_by_the_device_user()
    {
        await using var o8 = await StartAsync();

        var result = await o8.RunAsync(LoginScript.Deny()).WaitAsync(Wait);

        Assert.IsType<LoginDenied>(result.Outcome);
        Assert.True(result.MatchesScript, result.ToString());
        Assert.Equal(1, o8.Sandbox.Counters.DeviceCodesIssued);
        Assert.Equal(0, o8.Sandbox.Counters.AuthorizeRequests);
        await Assert.ThrowsAsync<AuthorizationDeniedException>(() => o8.AuthorizeAsync(LoginScript.Deny()).WaitAsync(Wait));
    }

    [Fact]
    public async Task An_approval_script_signs_in_its_subject()
    {
        await using var o8 = await StartAsync();

        var result = await o8.RunAsync(LoginScript.Approve("alice")).WaitAsync(Wait);

        var succeeded = Assert.IsType<LoginSucceeded>(result.Outcome);
        Assert.Equal("alice", succeeded.Tokens.IdTokenClaims?.Subject);
        Assert.True(result.MatchesScript, result.ToString());
    }

    [Fact]
    public async Task A_token_fault_strikes_the_polls_a_malformed_answer_fails_the_login()
    {
        await using var o8 = await StartAsync();

        var result = await o8.RunAsync(LoginScript.TokenEndpointFault(TokenFault.MalformedJson())).WaitAsync(Wait);

        Assert.IsType<LoginFailed>(result.Outcome);
        Assert.True(result.MatchesScript, result.ToString());
        Assert.Equal(1, o8.Sandbox.Counters.Faults(TokenFaultKind.MalformedJson));
    }

    [Fact]
    public async Task A_server_error_on_every_poll_is_polled_through_until_the_logins_deadline()
    {
        await using var o8 = await StartAsync();

        var result = await o8.RunAsync(LoginScript.TokenEndpointFault(TokenFault.ServerError(503)), timeout: TimeSpan.FromSeconds(3)).WaitAsync(Wait);

        Assert.IsType<LoginTimedOut>(result.Outcome);
        Assert.Equal(LoginOutcomeKind.TimedOut, result.Expected);
        Assert.True(result.MatchesScript, result.ToString());
        Assert.True(o8.Sandbox.Counters.Faults(TokenFaultKind.ServerError) >= 1);
    }

    [Fact]
    public async Task An_abandon_script_leaves_the_device_code_unanswered_until_the_logins_deadline()
    {
        await using var o8 = await StartAsync();

        // Longer than the two polls a user who approves needs (the sandbox's default user approves at the second).
        var result = await o8.RunAsync(LoginScript.Abandon, timeout: TimeSpan.FromSeconds(5)).WaitAsync(Wait);

        Assert.IsType<LoginTimedOut>(result.Outcome);
        Assert.True(result.MatchesScript, result.ToString());
        Assert.True(o8.Sandbox.Counters.DevicePolls >= 2, $"{o8.Sandbox.Counters.DevicePolls} polls");
        Assert.Equal(0, o8.Sandbox.Counters.TokensIssued);
        Assert.Equal(0, o8.Sandbox.Counters.Denials);
    }

    [Fact]
    public async Task A_device_login_harness_gives_a_token_fault_polled_through_to_its_deadline_the_short_timeout()
    {
        await using var o8 = await StartAsync();

        // As it does the scripts that end by their deadline in a browser (Abandon): each would hold its slot for the whole
        // login timeout, and a virtual-time test advancing by the short timeout would never see it end. A device login's
        // short timeout runs from the poll interval (1 s here): one no longer than the interval fails before its first poll.
        var shortTimeout = o8.Options.AbandonTimeout + TimeSpan.FromSeconds(1);
        Assert.Equal(shortTimeout, o8.Request(LoginScript.TokenEndpointFault(TokenFault.ServerError(503))).Timeout);
        Assert.Equal(o8.Options.LoginTimeout, o8.Request(LoginScript.TokenEndpointFault(TokenFault.MalformedJson())).Timeout);
        Assert.Equal(shortTimeout, o8.Request(LoginScript.Abandon).Timeout);
    }

    /// <summary>
    /// With the sandbox's own poll interval (5 s, longer than the 2 s short timeout), a device login that should end by its
    /// deadline was refused before its first poll: it failed ("asks for 5 s between polls"), and the script's test with it.
    /// </summary>
    [Fact]
    public async Task A_device_login_harness_with_the_sandboxs_poll_interval_times_out_the_scripts_that_end_by_their_deadline()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.ConfigureLogins = setup => setup.Options.Login.Method = LoginMethod.Device);

        var results = await Task.WhenAll(o8.RunAsync(LoginScript.Abandon), o8.RunAsync(LoginScript.TokenEndpointFault(TokenFault.ServerError(503))))
            .WaitAsync(Wait);

        foreach (var result in results)
        {
            Assert.IsType<LoginTimedOut>(result.Outcome);
            Assert.True(result.MatchesScript, result.ToString());
        }
        Assert.Equal(2, o8.Sandbox.Counters.DeviceCodesIssued);
    }

    [Fact]
    public async Task The_method_a_result_expects_comes_from_the_device_code_asked_for_not_from_kept_events()
    {
        // Two events kept: the login's own device code event is gone among its polls' by the time its outcome comes.
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.MaxEventsKept = 2;
            o.ConfigureSandbox = sandbox => sandbox.DevicePollInterval = TimeSpan.FromSeconds(1);
            o.ConfigureLogins = setup => setup.Options.Login.Method = LoginMethod.Device;
        });

        var result = await o8.RunAsync(LoginScript.TokenEndpointFault(TokenFault.ServerError(503)), timeout: TimeSpan.FromSeconds(4)).WaitAsync(Wait);

        Assert.IsType<LoginTimedOut>(result.Outcome);
        Assert.Equal(LoginOutcomeKind.TimedOut, result.Expected);
    }

    /// <summary>
    /// On virtual time a device login polls when the test moves the scheduler, seconds apart on that clock and
    /// milliseconds apart on the real one. The sandbox judged the pace on the real clock: every poll was too soon
    /// (<c>slow_down</c>), the scripted user was never asked, and approvals and denials alike ended by the deadline. The
    /// harness now gives its sandbox the orchestrator's clock (and its provider, which checks the ID tokens issued on it).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task On_virtual_time_a_device_login_reaches_its_scripted_user(bool approve)
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.VirtualTime = true;
            o.ConfigureSandbox = sandbox => sandbox.DevicePollInterval = TimeSpan.FromSeconds(1);
            o.ConfigureLogins = setup => setup.Options.Login.Method = LoginMethod.Device;
        });

        var login = o8.RunAsync(approve ? LoginScript.Approve("alice") : LoginScript.Deny(), TimeSpan.FromMinutes(2));
        // Half an interval at a time, a little real time after each for the poll to go out and be answered: bounded.
        for (var step = 0; step < 100 && !login.IsCompleted; step++)
        {
            o8.Scheduler.Advance(TimeSpan.FromMilliseconds(500));
            await Task.WhenAny(login, Task.Delay(TimeSpan.FromMilliseconds(50)));
        }

        var result = await login.WaitAsync(Wait);
        if (approve) Assert.Equal("alice", Assert.IsType<LoginSucceeded>(result.Outcome).Tokens.IdTokenClaims?.Subject);
        else Assert.IsType<LoginDenied>(result.Outcome);
        Assert.True(result.MatchesScript, result.ToString());
        Assert.Equal(0, o8.Sandbox.Counters.Errors("slow_down"));
    }

    [Theory]
    [InlineData(LoginFate.Deny, LoginMethod.Browser, LoginOutcomeKind.Denied)]
    [InlineData(LoginFate.Deny, LoginMethod.Device, LoginOutcomeKind.Denied)]
    [InlineData(LoginFate.TokenFault, LoginMethod.Browser, LoginOutcomeKind.Failed)]
    [InlineData(LoginFate.TokenFault, LoginMethod.Device, LoginOutcomeKind.TimedOut)]
    public void The_expected_outcome_follows_the_method_the_login_ran_with(LoginFate fate, LoginMethod method, LoginOutcomeKind expected)
    {
        var script = fate == LoginFate.Deny ? LoginScript.Deny() : LoginScript.TokenEndpointFault();

        Assert.Equal(expected, script.Expected(TimeSpan.FromSeconds(10), method));
    }

    [Fact]
    public void Auto_is_no_method_a_login_ran_with()
    {
        Assert.Throws<ArgumentException>(() => LoginScript.Approve().Expected(TimeSpan.FromSeconds(10), LoginMethod.Auto));
    }
}
