using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Browser;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Tests.Flows;

/// <summary>A device login's phases (RFC 8628) in one FlowActor, driven by probes in virtual time.</summary>
public sealed class DeviceLoginTests : TestKit
{
    private const string DeviceCode = "device-code-secret-value";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);
    private static readonly LoginOptions Options = new() { Timeout = TimeSpan.FromSeconds(30), ExchangeTimeout = TimeSpan.FromSeconds(10) };
    private static readonly Uri AuthorizeUrl = new("https://provider.test/authorize?x=1");

    private readonly TestProbe _listener;
    private readonly TestProbe _providers;
    // The providers as a login sees them: browser-login checks accepted, the rest to _providers.
    private readonly IActorRef _providersFront;
    private readonly TestProbe _outcomes;
    private readonly TestProbe _events;

    public DeviceLoginTests() : base(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""")
    {
        _listener = CreateTestProbe();
        _providers = CreateTestProbe();
        _providersFront = Sys.ActorOf(ProviderChecksAccepted.Props(_providers.Ref));
        _outcomes = CreateTestProbe();
        _events = CreateTestProbe();
        Sys.EventStream.Subscribe(_events.Ref, typeof(LoginEvent));
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private IActorRef _flow = ActorRefs.Nobody;

    private static DeviceAuthorization Authorization(TimeSpan? lifetime = null, TimeSpan? interval = null) =>
        new(DeviceCode, "BCDF-GHJK", new Uri("https://provider.test/device"), new Uri("https://provider.test/device?user_code=BCDF-GHJK"),
            lifetime ?? CodeLifetime, interval ?? Interval);

    private IActorRef Start(LoginMethod? method = LoginMethod.Device, IBrowserLauncher? browser = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? parameters = null, LoginOptions? options = null)
    {
        var request = new AuthorizationRequest(["read"], timeout, parameters) { Method = method };
        var flow = Sys.ActorOf(FlowActor.Props("d1", "test", request, options ?? Options, _listener.Ref, _providersFront, browser ?? new RecordingBrowser(), _outcomes.Ref));
        Watch(flow);
        _flow = flow;
        return flow;
    }

    /// <summary>An Auto login whose browser launcher fails: its URL is shown, and it asks for a device code meanwhile.</summary>
    private void StartAutoWhoseBrowserFails()
    {
        Start(LoginMethod.Auto, new FailingBrowser());
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("d1", new Uri("https://localhost:41539/")));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("d1", AuthorizeUrl, ProviderDescriptor.Static, new Uri("https://localhost:41539/test")));
        _providers.ExpectMsg<RequestDeviceCode>();
    }

    /// <summary>Starts a device login and hands it its code; returns the flow, waiting for its first poll.</summary>
    private IActorRef StartPolling(DeviceAuthorization? authorization = null, TimeSpan? timeout = null)
    {
        var flow = Start(timeout: timeout);
        var request = _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeIssued("d1", authorization ?? Authorization()));
        _events.FishForMessage(m => m is DeviceCodeIssuedEvent);
        // As in Answer: once Identify is answered the login has finished handling its code (the poll timer is set), so
        // advancing virtual time cannot race it.
        var probe = CreateTestProbe();
        flow.Tell(new Identify(null), probe.Ref);
        probe.ExpectMsg<ActorIdentity>();
        return flow;
    }

    private PollDeviceToken NextPoll(TimeSpan after)
    {
        // Not a moment early: the interval is the minimum time between polls (RFC 8628 section 3.5).
        Scheduler.Advance(after - TimeSpan.FromMilliseconds(1));
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Scheduler.Advance(TimeSpan.FromMilliseconds(1));
        return _providers.ExpectMsg<PollDeviceToken>();
    }

    private void Answer(DeviceTokenPoll poll)
    {
        _providers.Reply(new DeviceTokenPolled("d1", poll));
        // Identify is answered in mailbox order: once it is, the login has handled the answer and started its next timer,
        // so advancing virtual time cannot race it.
        var probe = CreateTestProbe();
        _flow.Tell(new Identify(null), probe.Ref);
        probe.ExpectMsg<ActorIdentity>();
    }

    [Fact]
    public void A_request_that_names_no_method_follows_the_configured_one()
    {
        Start(method: null, options: new LoginOptions { Method = LoginMethod.Device });

        _providers.ExpectMsg<RequestDeviceCode>();
        Assert.Equal(LoginMethod.Device, _events.FishForMessage<LoginMethodChosenEvent>(_ => true).Method);
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_request_that_names_its_method_wins_over_the_configured_one()
    {
        Start(method: LoginMethod.Browser, options: new LoginOptions { Method = LoginMethod.Device });

        // A browser login registers its state with the listener and asks no provider for a device code.
        _listener.ExpectMsg<RegisterState>();
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_device_login_asks_for_a_code_without_the_listener_publishes_it_and_polls_at_the_interval_until_approved()
    {
        var flow = Start(parameters: new Dictionary<string, string> { ["login_hint"] = "alice" });
        var request = _providers.ExpectMsg<RequestDeviceCode>();
        Assert.Equal("test", request.Provider);
        Assert.Equal(["read"], request.Scopes);
        Assert.Equal("alice", request.ExtraParameters["login_hint"]);
        var chosen = _events.FishForMessage<LoginMethodChosenEvent>(_ => true);
        Assert.Equal(LoginMethod.Device, chosen.Method);

        _providers.Reply(new DeviceCodeIssued("d1", Authorization()));
        var issued = _events.FishForMessage<DeviceCodeIssuedEvent>(_ => true);
        Assert.Equal("BCDF-GHJK", issued.UserCode);
        Assert.Equal(new Uri("https://provider.test/device"), issued.VerificationUri);
        Assert.Equal(Interval, issued.Interval);
        Assert.DoesNotContain(DeviceCode, issued.ToString());

        Assert.Equal(DeviceCode, NextPoll(Interval).DeviceCode);
        Answer(new DeviceTokenPoll(DevicePollStatus.Pending, Error: "authorization_pending"));
        NextPoll(Interval);
        var tokens = new TokenSet("access", "Bearer");
        Answer(DeviceTokenPoll.Issued(tokens));

        Assert.Same(tokens, _outcomes.ExpectMsg<LoginSucceeded>().Tokens);
        ExpectTerminated(flow);
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(50)); // never registered a state, never unregistered one
    }

    [Theory]
    [InlineData(2, 10, 2)]   // the caller's timeout ends the login before the code expires
    [InlineData(null, 45, 30)] // a code that outlives the longest device login
    [InlineData(null, 10, 10)] // the code's own lifetime
    public void The_published_lifetime_is_how_long_this_login_takes_the_code(int? timeoutMinutes, int codeMinutes, int shownMinutes)
    {
        // The prompt says "the code is valid for ...": a user who types it after the login stopped polling is told
        // "device connected" by the provider and signed in nowhere.
        Start(timeout: timeoutMinutes is { } t ? TimeSpan.FromMinutes(t) : null);
        _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeIssued("d1", Authorization(lifetime: TimeSpan.FromMinutes(codeMinutes))));

        Assert.Equal(TimeSpan.FromMinutes(shownMinutes), _events.FishForMessage<DeviceCodeIssuedEvent>(_ => true).ExpiresIn);
    }

    [Fact]
    public void A_device_login_goes_on_when_the_redirect_listener_it_never_used_is_lost()
    {
        var flow = StartPolling();

        flow.Tell(new ListenerLost("The redirect listener failed."));

        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        NextPoll(Interval);
        var tokens = new TokenSet("access", "Bearer");
        Answer(DeviceTokenPoll.Issued(tokens));
        Assert.Same(tokens, _outcomes.ExpectMsg<LoginSucceeded>().Tokens);
    }

    [Fact]
    public void Slow_down_raises_the_interval_by_five_seconds_each_time_and_it_stays_raised()
    {
        StartPolling();
        NextPoll(Interval);
        Answer(new DeviceTokenPoll(DevicePollStatus.SlowDown, Error: "slow_down"));
        NextPoll(TimeSpan.FromSeconds(10));
        Answer(new DeviceTokenPoll(DevicePollStatus.SlowDown, Error: "slow_down"));
        NextPoll(TimeSpan.FromSeconds(15));
        Answer(new DeviceTokenPoll(DevicePollStatus.Pending, Error: "authorization_pending"));
        var poll = NextPoll(TimeSpan.FromSeconds(15));
        Assert.Equal(DeviceCode, poll.DeviceCode);
        Assert.Equal(TimeSpan.FromSeconds(15), _events.FishForMessage<DevicePollEvent>(e => e.Poll == 4).Interval);
    }

    [Fact]
    public void Access_denied_ends_as_the_same_denial_as_a_refused_browser_login()
    {
        var flow = StartPolling();
        NextPoll(Interval);
        Answer(new DeviceTokenPoll(DevicePollStatus.Denied, Error: "access_denied", ErrorDescription: "The user said no"));

        var denied = _outcomes.ExpectMsg<LoginDenied>();
        Assert.Equal("access_denied", denied.Error);
        Assert.Equal("The user said no", denied.ErrorDescription);
        ExpectTerminated(flow);
    }

    [Fact]
    public void Expired_token_ends_as_timed_out()
    {
        var flow = StartPolling();
        NextPoll(Interval);
        Answer(new DeviceTokenPoll(DevicePollStatus.Expired, Error: "expired_token"));

        var timedOut = _outcomes.ExpectMsg<LoginTimedOut>();
        Assert.Equal(CodeLifetime, timedOut.Timeout);
        Assert.Equal(TimedOutWaiting.DeviceApproval, timedOut.Waiting); // so the caller's exception names the device code, not a redirect
        ExpectTerminated(flow);
    }

    [Fact]
    public void The_codes_lifetime_is_the_deadline_and_no_poll_follows_it()
    {
        var lifetime = TimeSpan.FromSeconds(12);
        var flow = StartPolling(Authorization(lifetime));
        NextPoll(Interval);
        Answer(new DeviceTokenPoll(DevicePollStatus.Pending));
        NextPoll(Interval);
        Answer(new DeviceTokenPoll(DevicePollStatus.Pending));
        Scheduler.Advance(TimeSpan.FromSeconds(2)); // 12 s: the code is dead

        var timedOut = _outcomes.ExpectMsg<LoginTimedOut>();
        Assert.Equal(lifetime, timedOut.Timeout);
        Assert.Equal(TimedOutWaiting.DeviceApproval, timedOut.Waiting);
        ExpectTerminated(flow);
        Scheduler.Advance(TimeSpan.FromMinutes(1));
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        var ended = _events.FishForMessage<LoginEndedEvent>(_ => true);
        Assert.Contains("device code", ended.Reason);
    }

    [Fact]
    public void A_code_lifetime_past_half_an_hour_is_cut_to_it_so_a_waiting_caller_outlasts_the_login()
    {
        var flow = StartPolling(Authorization(TimeSpan.FromHours(2), interval: TimeSpan.FromMinutes(20)));
        NextPoll(TimeSpan.FromMinutes(20));
        Answer(new DeviceTokenPoll(DevicePollStatus.Pending));
        Scheduler.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(FlowActor.MaximumDeviceLoginTime, _outcomes.ExpectMsg<LoginTimedOut>().Timeout);
        Assert.Equal(TimeSpan.FromMinutes(30), FlowActor.MaximumDeviceLoginTime);
        ExpectTerminated(flow);
    }

    [Fact]
    public void A_timeout_the_caller_set_bounds_a_longer_code_lifetime()
    {
        StartPolling(timeout: TimeSpan.FromSeconds(7));
        NextPoll(Interval);
        Answer(new DeviceTokenPoll(DevicePollStatus.Pending));
        Scheduler.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(TimeSpan.FromSeconds(7), _outcomes.ExpectMsg<LoginTimedOut>().Timeout);
    }

    [Fact]
    public void Every_poll_carries_the_logins_own_deadline_so_a_poll_queued_past_it_is_dropped()
    {
        // Before: each poll carried its own send time plus the whole device timeout, so a poll queued at the provider
        // outlived the login by up to that timeout and was sent after the login had ended.
        var codeIssuedAt = Scheduler.Now;
        StartPolling();

        Assert.Equal(codeIssuedAt + CodeLifetime, NextPoll(Interval).Deadline);
        Answer(new DeviceTokenPoll(DevicePollStatus.SlowDown, Error: "slow_down"));
        Assert.Equal(codeIssuedAt + CodeLifetime, NextPoll(Interval + FlowActor.SlowDownStep).Deadline);
    }

    [Theory]
    [InlineData(null, 900, 3600)]        // the interval outlasts the code
    [InlineData(null, 900, 2147483647)]  // as a provider's int32 interval can
    [InlineData(null, 900, 900)]         // the first poll would fall on the deadline
    [InlineData(null, 7200, 1800)]       // within the code's lifetime, not within the 30 minutes a device login takes
    [InlineData(60, 900, 120)]           // not within the caller's timeout
    public void A_code_whose_interval_lets_no_poll_out_before_the_deadline_fails_the_login_unshown(int? timeoutSeconds, int lifetimeSeconds, int intervalSeconds)
    {
        // Before: the prompt said "polling every 2147483647 s", no poll was ever sent, and the login ended as if the user
        // had not answered the code in time.
        var flow = Start(timeout: timeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null);
        _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeIssued("d1", Authorization(TimeSpan.FromSeconds(lifetimeSeconds), TimeSpan.FromSeconds(intervalSeconds))));

        AssertRefusedUnshown(flow);
    }

    [Fact]
    public void A_custom_strategys_interval_of_TimeSpan_MaxValue_fails_the_login_instead_of_polling_at_once_or_overflowing()
    {
        var flow = Start();
        _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeIssued("d1", Authorization(TimeSpan.MaxValue, TimeSpan.MaxValue)));

        AssertRefusedUnshown(flow);
    }

    private void AssertRefusedUnshown(IActorRef flow)
    {
        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.TokenExchange, failed.Failure);
        Assert.Contains("between polls", failed.Reason);
        Assert.DoesNotContain(DeviceCode, failed.Reason);
        ExpectTerminated(flow);
        Assert.DoesNotContain(_events.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m), m => m is DeviceCodeIssuedEvent);
        Scheduler.Advance(TimeSpan.FromHours(1));
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(50)); // no poll
    }

    [Fact]
    public void Auto_whose_device_code_could_never_be_polled_stays_with_the_shown_URL()
    {
        StartAutoWhoseBrowserFails();
        _providers.Reply(new DeviceCodeIssued("d1", Authorization(TimeSpan.FromMinutes(15), TimeSpan.FromHours(1))));

        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // the browser's state is not withdrawn
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Assert.DoesNotContain(_events.ReceiveWhile(TimeSpan.FromMilliseconds(50), m => m),
            m => m is DeviceCodeIssuedEvent or LoginMethodChosenEvent { Method: LoginMethod.Device });
    }

    [Fact]
    public void Cancelling_between_polls_ends_the_login_at_once_and_stops_the_polls()
    {
        var flow = StartPolling();
        NextPoll(Interval);
        Answer(new DeviceTokenPoll(DevicePollStatus.Pending));
        flow.Tell(new CancelFlow("d1"));

        _outcomes.ExpectMsg<LoginCancelled>();
        ExpectTerminated(flow);
        Scheduler.Advance(TimeSpan.FromMinutes(1));
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Cancelling_with_a_poll_in_flight_answers_at_once_and_the_login_stops_at_the_polls_answer_with_no_more_polls()
    {
        var flow = StartPolling();
        NextPoll(Interval);
        flow.Tell(new CancelFlow("d1"));

        _outcomes.ExpectMsg<LoginCancelled>();
        // Still queued at the provider, the poll is taken back unsent (answered as failed); sent, its answer comes.
        Assert.Equal(new WithdrawExchange("test", "d1"), _providers.ExpectMsg<WithdrawExchange>());
        _providers.Send(flow, new DeviceTokenPolled("d1", new DeviceTokenPoll(DevicePollStatus.Pending)));
        ExpectTerminated(flow);
        Scheduler.Advance(TimeSpan.FromMinutes(1));
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    /// <summary>
    /// The user approves on their phone while a poll is on its way, and the app cancels (or the code's time runs out)
    /// before its answer: the tokens it brings are revoked (RFC 7009), refresh token first, as a cancelled browser
    /// login's are, so no live grant is left that the app does not know of.
    /// </summary>
    [Theory]
    [InlineData(false)] // the caller cancels
    [InlineData(true)]  // the login's deadline passes
    public void Tokens_a_poll_in_flight_brings_after_the_login_ended_are_revoked(bool deadline)
    {
        var flow = StartPolling(timeout: TimeSpan.FromSeconds(7));
        NextPoll(Interval);
        if (deadline) Scheduler.Advance(TimeSpan.FromSeconds(2));
        else flow.Tell(new CancelFlow("d1"));

        // The caller hears at once.
        var ended = _outcomes.ExpectMsg<LoginOutcome>();
        Assert.Equal(deadline ? LoginOutcomeKind.TimedOut : LoginOutcomeKind.Cancelled, ended.Kind);
        _providers.ExpectMsg<WithdrawExchange>();

        _providers.Send(flow, new DeviceTokenPolled("d1", new DeviceTokenPoll(DevicePollStatus.Issued, UnclaimedTokens.Issued)));

        UnclaimedTokens.ExpectRevokedThenStopped(this, _providers, flow);
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(50)); // the caller heard only once
    }

    [Fact]
    public void A_provider_without_the_device_grant_fails_an_explicit_device_login_as_provider_unavailable()
    {
        var flow = Start();
        _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeRefused(new CodeExchangeFailed("d1", LoginFailure.ProviderUnavailable, "The provider 'test' does not support the device authorization grant.", null)));

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.Contains("device authorization grant", failed.Reason);
        ExpectTerminated(flow);
    }

    [Fact]
    public void A_poll_that_fails_ends_the_login_with_that_failure()
    {
        var flow = StartPolling();
        NextPoll(Interval);
        _providers.Reply(new CodeExchangeFailed("d1", LoginFailure.TokenExchange, "The token endpoint refused: invalid_client.", "invalid_client"));

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal("invalid_client", failed.ProviderError);
        ExpectTerminated(flow);
    }

    private void Fail(CodeExchangeFailed failure)
    {
        _providers.Reply(failure);
        var probe = CreateTestProbe();
        _flow.Tell(new Identify(null), probe.Ref);
        probe.ExpectMsg<ActorIdentity>();
    }

    [Fact]
    public void A_poll_that_times_out_or_meets_a_server_error_is_sent_again_after_a_doubled_wait_and_the_login_goes_on()
    {
        var flow = StartPolling();
        NextPoll(Interval);
        Fail(new CodeExchangeFailed("d1", LoginFailure.ExchangeTimeout, "The token endpoint did not answer within 10 seconds.", null));
        NextPoll(2 * Interval);
        Fail(new CodeExchangeFailed("d1", LoginFailure.TokenExchange, "HTTP 503", null,
            new TokenExchangeException("HTTP 503", innerException: new HttpRequestException("HTTP 503", null, System.Net.HttpStatusCode.ServiceUnavailable))));
        NextPoll(4 * Interval);
        Fail(new CodeExchangeFailed("d1", LoginFailure.TokenExchange, "no connection", null,
            new TokenExchangeException("failed before the token endpoint answered", innerException: new HttpRequestException("Connection refused"))));
        NextPoll(8 * Interval);
        Fail(new CodeExchangeFailed("d1", LoginFailure.ExchangeQueueFull, "queue full", null));
        NextPoll(FlowActor.MaximumRetryInterval); // 80 s would be next: capped
        Answer(new DeviceTokenPoll(DevicePollStatus.Pending, Error: "authorization_pending"));
        NextPoll(Interval);                         // answered: back to the provider's interval
        Answer(DeviceTokenPoll.Issued(new TokenSet("access", "Bearer")));

        _outcomes.ExpectMsg<LoginSucceeded>();
        ExpectTerminated(flow);
    }

    [Fact]
    public void A_login_that_keeps_failing_its_polls_still_ends_at_its_deadline()
    {
        var flow = StartPolling(Authorization(TimeSpan.FromSeconds(12)));
        NextPoll(Interval);
        Fail(new CodeExchangeFailed("d1", LoginFailure.ExchangeTimeout, "The token endpoint did not answer within 10 seconds.", null));
        Scheduler.Advance(TimeSpan.FromSeconds(7)); // 12 s: the code is dead before the retry (at 15 s) is due

        Assert.Equal(TimeSpan.FromSeconds(12), _outcomes.ExpectMsg<LoginTimedOut>().Timeout);
        ExpectTerminated(flow);
        Scheduler.Advance(TimeSpan.FromMinutes(1));
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void A_poll_refused_with_a_4xx_and_no_OAuth_error_ends_the_login()
    {
        var flow = StartPolling();
        NextPoll(Interval);
        _providers.Reply(new CodeExchangeFailed("d1", LoginFailure.TokenExchange, "HTTP 404", null,
            new TokenExchangeException("HTTP 404", innerException: new HttpRequestException("HTTP 404", null, System.Net.HttpStatusCode.NotFound))));

        Assert.Equal(LoginFailure.TokenExchange, _outcomes.ExpectMsg<LoginFailed>().Failure);
        ExpectTerminated(flow);
    }

    [Fact]
    public void Auto_without_a_display_uses_the_device_grant_and_says_why()
    {
        Start(LoginMethod.Auto, new HeadlessBrowser());

        _providers.ExpectMsg<RequestDeviceCode>();
        var chosen = _events.FishForMessage<LoginMethodChosenEvent>(_ => true);
        Assert.Equal(LoginMethod.Device, chosen.Method);
        Assert.Contains("no display", chosen.Reason);
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Auto_without_a_display_falls_back_to_the_browser_when_the_provider_has_no_device_grant()
    {
        var flow = Start(LoginMethod.Auto, new HeadlessBrowser());
        _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeRefused(new CodeExchangeFailed("d1", LoginFailure.ProviderUnavailable, "no device endpoint", null) { BrowserMayServe = true }));

        var registration = _listener.ExpectMsg<RegisterState>();
        var chosen = _events.FishForMessage<LoginMethodChosenEvent>(e => e.Method == LoginMethod.Browser);
        Assert.Contains("does not support the device grant", chosen.Reason);
        _listener.Reply(new StateRegistered("d1", new Uri("https://localhost:41539/")));
        Assert.Equal(registration.State, _providers.ExpectMsg<PrepareAuthorization>().State);
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Assert.False(flow.IsNobody());
    }

    /// <summary>
    /// Auto turned to the browser because the provider has no device grant: a login that then times out waited for its
    /// callback, and its timeout said the provider had issued no device code.
    /// </summary>
    [Fact]
    public void Auto_that_fell_back_to_the_browser_times_out_as_a_browser_login()
    {
        Start(LoginMethod.Auto, new HeadlessBrowser());
        _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeRefused(new CodeExchangeFailed("d1", LoginFailure.ProviderUnavailable, "no device endpoint", null) { BrowserMayServe = true }));
        _listener.ExpectMsg<RegisterState>();

        Scheduler.Advance(Options.Timeout);

        var timedOut = _outcomes.ExpectMsg<LoginTimedOut>();
        Assert.NotEqual(TimedOutWaiting.DeviceCode, timedOut.Waiting);
        Assert.DoesNotContain("device code", AuthorizationTimeoutException.For(timedOut).Message);
    }

    [Fact]
    public void Auto_without_a_display_whose_provider_is_gone_fails_at_once_instead_of_trying_the_browser()
    {
        Start(LoginMethod.Auto, new HeadlessBrowser());
        _providers.ExpectMsg<RequestDeviceCode>();
        // What the registry or the dead letters' watcher answers for a provider actor that stopped after failing repeatedly.
        _providers.Reply(new DeviceCodeRefused(new CodeExchangeFailed("d1", LoginFailure.ProviderUnavailable, "The provider 'test' is unavailable: its actor stopped", null)));

        Assert.Equal(LoginFailure.ProviderUnavailable, _outcomes.ExpectMsg<LoginFailed>().Failure);
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Assert.DoesNotContain(_events.ReceiveWhile(TimeSpan.FromMilliseconds(50), m => m), m => m is LoginMethodChosenEvent { Method: LoginMethod.Browser });
    }

    [Fact]
    public void Auto_does_not_ask_for_a_device_code_twice_when_the_provider_has_none_and_the_launcher_then_fails()
    {
        Start(LoginMethod.Auto, new HeadlessBrowser());
        _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeRefused(new CodeExchangeFailed("d1", LoginFailure.ProviderUnavailable, "no device endpoint", null) { BrowserMayServe = true }));
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("d1", new Uri("https://localhost:41539/")));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("d1", AuthorizeUrl, ProviderDescriptor.Static, new Uri("https://localhost:41539/test")));

        _events.FishForMessage<BrowserLaunchedEvent>(e => !e.Launched); // the headless launcher could not open it
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));          // and no second device request follows
    }

    [Fact]
    public void Auto_with_a_display_uses_the_browser_and_switches_to_the_device_grant_when_the_launcher_fails()
    {
        Start(LoginMethod.Auto, new FailingBrowser());
        Assert.Equal(LoginMethod.Browser, _events.FishForMessage<LoginMethodChosenEvent>(_ => true).Method);
        var registration = _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("d1", new Uri("https://localhost:41539/")));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("d1", AuthorizeUrl, ProviderDescriptor.Static, new Uri("https://localhost:41539/test")));

        _providers.ExpectMsg<RequestDeviceCode>();
        _providers.Reply(new DeviceCodeIssued("d1", Authorization()));

        var chosen = _events.FishForMessage<LoginMethodChosenEvent>(e => e.Method == LoginMethod.Device);
        Assert.Contains("browser launcher failed", chosen.Reason);
        Assert.Equal(registration.State, _listener.ExpectMsg<UnregisterState>().State); // the browser's state is withdrawn
        NextPoll(Interval);
        Answer(DeviceTokenPoll.Issued(new TokenSet("access", "Bearer")));
        _outcomes.ExpectMsg<LoginSucceeded>();
    }

    [Fact]
    public void A_device_login_cancelled_while_its_code_is_asked_for_takes_the_request_back()
    {
        var flow = Start();
        _providers.ExpectMsg<RequestDeviceCode>();

        flow.Tell(new CancelFlow("d1"));

        // Still queued at the provider, the request is dropped unsent (a code nobody would show, a place in the queue).
        Assert.Equal("d1", _providers.ExpectMsg<WithdrawExchange>().LoginId);
        _outcomes.ExpectMsg<LoginCancelled>();
    }

    [Fact]
    public void A_device_login_whose_code_never_came_times_out_saying_the_provider_issued_none()
    {
        Start();
        var request = _providers.ExpectMsg<RequestDeviceCode>();
        // The provider's queue drops the request unsent once the login's deadline has passed.
        Assert.Equal(Scheduler.Now + Options.Timeout, request.Deadline);

        Scheduler.Advance(Options.Timeout);

        var timedOut = _outcomes.ExpectMsg<LoginTimedOut>();
        var message = AuthorizationTimeoutException.For(timedOut).Message;
        Assert.Contains("did not issue a device code", message);
        Assert.DoesNotContain("browser", message);
        Assert.Contains("issued no device code", _events.FishForMessage<LoginEndedEvent>(_ => true).Reason);
    }

    /// <summary>
    /// The provider's queue drops the request exactly at the login's deadline, and its answer may come before the login's
    /// own timer fires (on the scheduler's next tick): the login still times out as having no device code, not as failed.
    /// </summary>
    [Fact]
    public void A_device_code_request_dropped_at_the_logins_deadline_ends_it_as_timed_out_before_its_own_timer_fires()
    {
        Start();
        _providers.ExpectMsg<RequestDeviceCode>();

        _providers.Reply(new DeviceCodeRefused(new CodeExchangeFailed("d1", LoginFailure.ExchangeTimeout,
            "The token request waited in the queue of 'test' until it could no longer be answered before its caller's deadline, and was not sent.", null))
        {
            LoginDeadlinePassed = true,
        });

        var timedOut = _outcomes.ExpectMsg<LoginTimedOut>();
        Assert.Equal(TimedOutWaiting.DeviceCode, timedOut.Waiting);
        Assert.Contains("did not issue a device code", AuthorizationTimeoutException.For(timedOut).Message);
    }

    /// <summary>
    /// An Auto login whose browser login the provider refuses (a public GitHub-like client: no browser login's code can be
    /// redeemed), so it withdraws its state and asks for a device code; returns once the request is at the provider.
    /// </summary>
    private void StartAutoThatGoesOnWithTheDeviceGrant()
    {
        Start(LoginMethod.Auto);
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("d1", new Uri("https://localhost:41539/")));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new ProviderUnavailable("d1", "The provider redeems codes only for a client with a secret.") { DeviceMayServe = true });
        _listener.ExpectMsg<UnregisterState>();
        _providers.ExpectMsg<RequestDeviceCode>();
    }

    [Fact]
    public void A_listener_refusal_that_comes_after_the_login_went_on_with_the_device_grant_does_not_end_it()
    {
        StartAutoThatGoesOnWithTheDeviceGrant();

        // The listener's refusal of the registration withdrawn above (it was stopping, say) comes late.
        _flow.Tell(new StateRegistrationRefused("d1", "The redirect listener is stopping."));
        _providers.Reply(new DeviceCodeIssued("d1", Authorization()));
        _events.FishForMessage(m => m is DeviceCodeIssuedEvent);
        var probe = CreateTestProbe();
        _flow.Tell(new Identify(null), probe.Ref);
        probe.ExpectMsg<ActorIdentity>();

        NextPoll(Interval);
        Answer(DeviceTokenPoll.Issued(new TokenSet("access", "Bearer")));
        _outcomes.ExpectMsg<LoginSucceeded>();
    }

    /// <summary>
    /// Auto goes on with the device grant before any authorize URL went out when the provider redeems no browser login's
    /// code; a redirect with the state the listener routed just before the state's withdrawal reached it (a state that
    /// leaked: no URL carried it) got no page while the device code was asked for, and its tab waited 35 s for a 504. It
    /// ends the login at once with the 400 page, as a redirect before the URL does in every other phase; its code is never used.
    /// </summary>
    [Fact]
    public void A_redirect_routed_while_the_device_code_is_asked_for_ends_the_login_with_its_400_page_at_once()
    {
        StartAutoThatGoesOnWithTheDeviceGrant();
        var browserTab = CreateTestProbe();

        _flow.Tell(new AuthorizationCallback("d1", "the-code", null, null, null, "/test"), browserTab.Ref);

        var page = browserTab.ExpectMsg<CallbackResponse>(TimeSpan.FromSeconds(1));
        Assert.Equal(400, page.StatusCode);
        Assert.Equal(LoginFailure.InvalidCallback, _outcomes.ExpectMsg<LoginFailed>().Failure);
        // The device-code request it may still have queued is taken back.
        _providers.ExpectMsg<WithdrawExchange>();
    }

    [Fact]
    public void A_redirect_routed_just_before_the_switch_to_the_device_grant_gets_a_page_and_its_code_is_not_used()
    {
        StartAutoWhoseBrowserFails();
        var browserTab = CreateTestProbe();

        // Back to back: the listener routed the redirect before the login's unregistration reached it (the login has
        // taken the device code, and the redirect is in its mailbox next).
        _providers.Reply(new DeviceCodeIssued("d1", Authorization()));
        _events.FishForMessage(m => m is DeviceCodeIssuedEvent);
        _flow.Tell(new AuthorizationCallback("d1", "the-code", null, null, null, "/test"), browserTab.Ref);

        Assert.Equal(CallbackPages.NoLongerWaiting, browserTab.ExpectMsg<CallbackResponse>());
        _listener.ExpectMsg<UnregisterState>();
        // The login goes on with the device grant; the redirect's code never reaches the token endpoint.
        Assert.IsType<PollDeviceToken>(NextPoll(Interval));
        Answer(DeviceTokenPoll.Issued(new TokenSet("access", "Bearer")));
        _outcomes.ExpectMsg<LoginSucceeded>();
    }

    [Fact]
    public void A_device_code_failure_answered_while_the_shown_URL_is_exchanged_does_not_end_the_login()
    {
        StartAutoWhoseBrowserFails();
        var deviceAsker = _providers.LastSender; // the device code is still being asked for
        var browserTab = CreateTestProbe();

        // The user opened the shown URL: its redirect comes back and the code goes to the token endpoint.
        _flow.Tell(new AuthorizationCallback("d1", "the-code", null, null, null, "/test"), browserTab.Ref);
        _providers.ExpectMsg<ExchangeCode>();
        var exchanger = _providers.LastSender;
        // Then the device authorization endpoint's failure, and the exchange's tokens.
        deviceAsker.Tell(new DeviceCodeRefused(new CodeExchangeFailed("d1", LoginFailure.ExchangeTimeout, "The device authorization request timed out.", null)), _providers.Ref);
        exchanger.Tell(new CodeExchanged("d1", new TokenSet("access", "Bearer")), _providers.Ref);

        Assert.Equal("access", _outcomes.ExpectMsg<LoginSucceeded>().Tokens.AccessToken);
        Assert.Equal(CallbackPages.SignedIn, browserTab.ExpectMsg<CallbackResponse>() with { LoginId = null });
    }

    [Fact]
    public void Headless_detection_reads_ssh_and_display_variables()
    {
        static Func<string, string?> Env(params (string Name, string Value)[] set) =>
            name => set.FirstOrDefault(v => v.Name == name).Value;

        Assert.Contains("SSH_CONNECTION", HeadlessDetection.Reason(Env(("SSH_CONNECTION", "10.0.0.1 5 10.0.0.2 22"), ("DISPLAY", ":0")), needsDisplay: true));
        Assert.Contains("SSH_TTY", HeadlessDetection.Reason(Env(("SSH_TTY", "/dev/pts/1")), needsDisplay: false));
        Assert.Contains("no display", HeadlessDetection.Reason(Env(), needsDisplay: true));
        Assert.Null(HeadlessDetection.Reason(Env(("WAYLAND_DISPLAY", "wayland-0")), needsDisplay: true));
        Assert.Null(HeadlessDetection.Reason(Env(), needsDisplay: false));
        // The user's own opener counts as a browser, but not when it names text browsers only: the launcher passes those
        // over and prints the URL, so a login with no browser to show falls back as over SSH (it counted as one before).
        Assert.Null(HeadlessDetection.Reason(Env(("SSH_TTY", "/dev/pts/1"), ("BROWSER", "/opt/firefox/firefox %s")), needsDisplay: true));
        Assert.Null(HeadlessDetection.Reason(Env(("BROWSER", $"w3m{Path.PathSeparator}firefox")), needsDisplay: true));
        Assert.Contains("SSH_TTY", HeadlessDetection.Reason(Env(("SSH_TTY", "/dev/pts/1"), ("BROWSER", "w3m")), needsDisplay: true));
        Assert.Contains("no display", HeadlessDetection.Reason(Env(("BROWSER", $"lynx -dump{Path.PathSeparator}www-browser")), needsDisplay: true));
        Assert.Contains("no display", new SystemBrowserLauncher(TextWriter.Null, Env()).UnavailableReason ?? "no display (not Linux)");
    }

    private sealed class HeadlessBrowser : IBrowserLauncher, IBrowserAvailability
    {
        public string? UnavailableReason => "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)";

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
            Task.FromResult(BrowserLaunchResult.NotLaunched("headless"));
    }

    private sealed class FailingBrowser : IBrowserLauncher, IBrowserAvailability
    {
        public string? UnavailableReason => null;

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
            Task.FromResult(BrowserLaunchResult.NotLaunched("xdg-open: exit code 3"));
    }
}
