using Microsoft.Extensions.Time.Testing;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// Device logins (RFC 8628) end to end: O8Actors discovers the sandbox's device authorization endpoint, shows the code,
/// polls <c>/token</c> and ends in the same outcomes and exceptions as a browser login, for every scripted user.
/// </summary>
public sealed class DeviceLoginSandboxTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static Task<O8TestHarness> StartAsync(bool virtualTime = false, TimeProvider? sandboxTime = null) => O8TestHarness.StartAsync(o =>
    {
        o.VirtualTime = virtualTime;
        o.ConfigureSandbox = sandbox =>
        {
            sandbox.DevicePollInterval = TimeSpan.FromSeconds(1);
            if (sandboxTime is not null) sandbox.TimeProvider = sandboxTime;
        };
    });

    private static AuthorizationRequest Device(string loginHint, TimeSpan? timeout = null) =>
        new(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = loginHint }, Timeout: timeout) { Method = LoginMethod.Device };

    [Fact]
    public async Task An_approved_device_login_gets_tokens_and_an_account_after_polling()
    {
        await using var o8 = await StartAsync();

        var outcome = await o8.Logins.RunAsync(o8.ProviderName, Device("alice") with { AccountKey = "ignored" }).WaitAsync(Wait);

        var succeeded = Assert.IsType<LoginSucceeded>(outcome);
        Assert.True(o8.Sandbox.IsActive(succeeded.Tokens.AccessToken));
        Assert.Equal("alice", succeeded.Tokens.IdTokenClaims?.Subject);       // a validated ID token
        Assert.Equal(new OAuthAccount(o8.ProviderName, "alice"), succeeded.Account);
        Assert.Equal(1, o8.Sandbox.Counters.DeviceCodesIssued);
        Assert.Equal(2, o8.Sandbox.Counters.DevicePolls);                    // one authorization_pending, then the tokens
        Assert.Equal(1, o8.Sandbox.Counters.Errors("authorization_pending"));
        Assert.Equal(0, o8.Sandbox.Counters.AuthorizeRequests);              // no browser, no /authorize
        var issued = Assert.Single(o8.Events.For(outcome.LoginId).OfType<DeviceCodeIssuedEvent>());
        Assert.Matches("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", issued.UserCode);
        Assert.Equal(new Uri(o8.Sandbox.Issuer, "/device"), issued.VerificationUri);
        Assert.Equal($"?user_code={issued.UserCode}", issued.VerificationUriComplete!.Query);
        Assert.Equal(TimeSpan.FromMinutes(10), issued.ExpiresIn);
    }

    [Fact]
    public async Task A_device_login_as_the_first_login_of_a_DPoP_provider_gets_tokens_bound_to_its_key()
    {
        // No browser login ran before it: the device login itself resolves the provider and learns that it binds tokens.
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.UseDpop = true;
            o.ConfigureSandbox = sandbox => sandbox.DevicePollInterval = TimeSpan.FromSeconds(1);
        });

        var outcome = await o8.Logins.RunAsync(o8.ProviderName, Device("alice")).WaitAsync(Wait);

        var succeeded = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal("DPoP", succeeded.Tokens.TokenType);
        var key = Assert.IsType<O8Actors.Dpop.DpopKey>(succeeded.Tokens.DpopKey);
        Assert.Equal(0, o8.Sandbox.Counters.AuthorizeRequests);
        // The account keeps the key with its tokens, so the app's requests can sign with it.
        var token = await o8.Logins.GetAccessTokenAsync(succeeded.Account!).WaitAsync(Wait);
        Assert.Equal(key.Thumbprint, token.DpopKey?.Thumbprint);
    }

    [Fact]
    public async Task Polls_that_meet_a_server_error_or_a_dropped_connection_are_sent_again_and_the_login_succeeds()
    {
        await using var o8 = await StartAsync();
        // Every token request fails until the test turns the faults off: first a 503 (server_error), then no answer at all.
        o8.Sandbox.TokenFaults = TokenFaultPlan.Random(TokenFault.ServerError(503), 1);

        var login = o8.Logins.RunAsync(o8.ProviderName, Device("alice"));
        for (var i = 0; i < 400 && o8.Sandbox.Counters.FaultsInjected < 1; i++) await Task.Delay(25);
        o8.Sandbox.TokenFaults = TokenFaultPlan.Random(TokenFault.DropConnection(), 1);
        for (var i = 0; i < 400 && o8.Sandbox.Counters.FaultsInjected < 2; i++) await Task.Delay(25);
        o8.Sandbox.TokenFaults = null;

        var succeeded = Assert.IsType<LoginSucceeded>(await login.WaitAsync(Wait));
        Assert.True(o8.Sandbox.IsActive(succeeded.Tokens.AccessToken));
        Assert.Equal(1, o8.Sandbox.Counters.Faults(TokenFaultKind.ServerError));
        Assert.True(o8.Sandbox.Counters.Faults(TokenFaultKind.DropConnection) >= 1);
    }

    /// <summary>
    /// The interval is advertised in whole seconds (RFC 8628 section 3.2) and judged by its exact value: a fraction would
    /// slow down a client that keeps the advertised pace (1.5 s advertised as 1, a poll after 1 s judged too soon).
    /// </summary>
    [Theory]
    [InlineData(1500)]
    [InlineData(2250)]
    public async Task A_poll_interval_of_a_fraction_of_a_second_is_refused_at_start(int milliseconds)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            SandboxAuthorizationServer.StartAsync(new SandboxOptions { DevicePollInterval = TimeSpan.FromMilliseconds(milliseconds) }));

        Assert.Equal("DevicePollInterval", error.ParamName);
        Assert.Contains("whole seconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_device_login_throws_the_same_exception_as_a_refused_browser_login()
    {
        await using var o8 = await StartAsync();

        var denied = await Assert.ThrowsAsync<AuthorizationDeniedException>(() => o8.Logins.AuthorizeAsync(o8.ProviderName, Device("deny-1")).WaitAsync(Wait));

        Assert.Equal("access_denied", denied.Error);
        Assert.Equal(1, o8.Sandbox.Counters.Denials);
    }

    [Fact]
    public async Task An_expired_device_code_throws_the_same_timeout_as_a_browser_login_naming_the_device_code()
    {
        await using var o8 = await StartAsync();

        var timedOut = await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => o8.Logins.AuthorizeAsync(o8.ProviderName, Device("expire-1")).WaitAsync(Wait));

        Assert.Equal(TimeSpan.FromMinutes(10), timedOut.Timeout);
        Assert.Contains("did not approve the device code", timedOut.Message);
        Assert.Equal(1, o8.Sandbox.Counters.Errors("expired_token"));
    }

    [Fact]
    public async Task A_user_who_never_answers_times_out_at_the_codes_lifetime_in_virtual_time()
    {
        await using var o8 = await StartAsync(virtualTime: true);

        var login = o8.Logins.RunAsync(o8.ProviderName, Device("hang-1"));
        await o8.Events.WaitForAsync<DeviceCodeIssuedEvent>(timeout: Wait);
        o8.Scheduler.Advance(TimeSpan.FromMinutes(10));

        var timedOut = Assert.IsType<LoginTimedOut>(await login.WaitAsync(Wait));
        Assert.Equal(TimeSpan.FromMinutes(10), timedOut.Timeout);
    }

    [Fact]
    public async Task A_slow_user_makes_the_login_back_off_five_seconds_per_slow_down_in_virtual_time()
    {
        // The sandbox holds the client to its interval on its own clock: here one that moves with the login's virtual time.
        var sandboxTime = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var o8 = await StartAsync(virtualTime: true, sandboxTime);

        var login = o8.Logins.RunAsync(o8.ProviderName, Device("slow-bob"));
        await o8.Events.WaitForAsync<DeviceCodeIssuedEvent>(timeout: Wait);
        // A second of virtual time at a time, until the login ends: each poll goes out when its interval has passed.
        // The sandbox's clock moves first, so it is never behind the login's when a poll lands: a poll the login sends at
        // second k reaches a sandbox at k or later. (The other order let a poll sent at k land while the sandbox still read
        // k - 1, a second short of the interval, and count as too soon.) A poll answered late is noted at most a second
        // ahead of the login's clock, within the sandbox's tolerance of a fifth of the interval from 6 s on.
        for (var step = 0; step < 120 && !login.IsCompleted; step++)
        {
            sandboxTime.Advance(TimeSpan.FromSeconds(1));
            o8.Scheduler.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(login, Task.Delay(25));
        }

        var succeeded = Assert.IsType<LoginSucceeded>(await login.WaitAsync(Wait));
        // The events reach the recorder after the outcome reaches the caller: its last one first, and every poll's with it.
        await o8.Events.WaitForEndAsync(succeeded.LoginId, Wait);
        // The two the user asked for, and none for polling too soon: the login kept each raised interval.
        Assert.Equal(2, o8.Sandbox.Counters.Errors("slow_down"));
        var intervals = o8.Events.Events.OfType<DevicePollEvent>().OrderBy(e => e.Poll).Select(e => e.Interval.TotalSeconds).ToArray();
        Assert.Equal([1, 6, 11], intervals);
    }

    [Fact]
    public async Task Cancelling_a_device_login_ends_it_as_cancelled_and_stops_polling()
    {
        await using var o8 = await StartAsync();
        using var cancel = new CancellationTokenSource();

        var login = o8.Logins.RunAsync(o8.ProviderName, Device("hang-2"), cancel.Token);
        await o8.Events.WaitForAsync<DevicePollEvent>(timeout: Wait);
        await cancel.CancelAsync();

        var cancelled = Assert.IsType<LoginCancelled>(await login.WaitAsync(Wait));
        // Every poll's event is recorded before the login's last one (they reach the recorder after the outcome).
        await o8.Events.WaitForEndAsync(cancelled.LoginId, Wait);
        // A poll sent just before the cancellation may still be on its way to the sandbox: let it land, then watch.
        var sent = o8.Events.Events.OfType<DevicePollEvent>().Count();
        for (var i = 0; i < 200 && o8.Sandbox.Counters.DevicePolls < sent; i++) await Task.Delay(25);
        Assert.Equal(sent, o8.Sandbox.Counters.DevicePolls);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // longer than two intervals: a live login would have polled again
        Assert.Equal(sent, o8.Sandbox.Counters.DevicePolls);
        Assert.Equal(sent, o8.Events.Events.OfType<DevicePollEvent>().Count());
    }

    [Fact]
    public async Task Fifty_device_logins_at_once_each_get_their_own_tokens()
    {
        await using var o8 = await StartAsync();

        var logins = Enumerable.Range(0, 50).Select(i => o8.Logins.RunAsync(o8.ProviderName, Device($"user-{i}"))).ToArray();
        var outcomes = await Task.WhenAll(logins).WaitAsync(Wait);

        var succeeded = outcomes.Select(o => Assert.IsType<LoginSucceeded>(o)).ToList();
        Assert.Equal(50, succeeded.Select(s => s.Tokens.AccessToken).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"user-{i}").Order(), succeeded.Select(s => s.Tokens.IdTokenClaims!.Subject).Order());
        Assert.Equal(50, o8.Sandbox.Counters.DeviceCodesIssued);
        Assert.Equal(100, o8.Sandbox.Counters.DevicePolls);
        foreach (var login in succeeded) await o8.Events.WaitForEndAsync(login.LoginId, Wait); // their events all recorded
        Assert.Equal(50, o8.Events.Events.OfType<DeviceCodeIssuedEvent>().Select(e => e.UserCode).Distinct().Count());
    }

    [Fact]
    public async Task Auto_signs_in_with_the_device_grant_when_the_launcher_can_open_no_browser()
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.Browser = new O8Actors.Browser.SystemBrowserLauncher(TextWriter.Null, name => name == "SSH_CONNECTION" ? "127.0.0.1 50000 127.0.0.1 22" : null);
            o.ConfigureSandbox = sandbox => sandbox.DevicePollInterval = TimeSpan.FromSeconds(1);
        });

        var outcome = await o8.Logins.RunAsync(o8.ProviderName, Device("carol") with { Method = LoginMethod.Auto }).WaitAsync(Wait);

        Assert.IsType<LoginSucceeded>(outcome);
        var chosen = Assert.Single(o8.Events.For(outcome.LoginId).OfType<LoginMethodChosenEvent>());
        Assert.Equal(LoginMethod.Device, chosen.Method);
        Assert.Contains("SSH session", chosen.Reason);
    }

    [Fact]
    public async Task The_discovery_document_advertises_the_device_endpoint_and_grant()
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync();
        using var http = new HttpClient();

        var json = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(sandbox.DiscoveryEndpoint)).RootElement;

        Assert.Equal(sandbox.DeviceAuthorizationEndpoint.AbsoluteUri, json.GetProperty("device_authorization_endpoint").GetString());
        Assert.Contains("urn:ietf:params:oauth:grant-type:device_code", json.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task The_device_endpoint_authenticates_the_client_like_the_token_endpoint()
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync();
        sandbox.RegisterClient("confidential", "s3cret-value-0123456789", ["https://localhost/cb"], ClientAuthMethod.Basic);
        using var http = new HttpClient();

        var anonymous = await http.PostAsync(sandbox.DeviceAuthorizationEndpoint,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = "confidential" }));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(0, sandbox.Counters.DeviceCodesIssued);
    }
}
