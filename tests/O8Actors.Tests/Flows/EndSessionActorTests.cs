using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Browser;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Flows;

/// <summary>A sign-out's browser step (OpenID Connect RP-Initiated Logout), driven by probes in virtual time.</summary>
public sealed class EndSessionActorTests : TestKit
{
    private static readonly Uri ListenerUri = new("https://localhost:41539/");
    private static readonly Uri ProviderRedirectUri = new("https://localhost:41539/test");
    private static readonly Uri EndSessionUrl = new("https://provider.test/logout?state=s");
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    private readonly TestProbe _listener;
    private readonly TestProbe _providers;
    private readonly TestProbe _requester;
    private readonly TestProbe _browserTab;

    public EndSessionActorTests() : base(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""")
    {
        _listener = CreateTestProbe();
        _providers = CreateTestProbe();
        _requester = CreateTestProbe();
        _browserTab = CreateTestProbe();
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private IActorRef Start(IBrowserLauncher browser, Uri? knownRedirectUri = null, string? idTokenHint = "the-id-token", bool serverMode = false)
    {
        var context = new FlowContext(new LoginOptions(), _listener.Ref, _providers.Ref, browser, _requester.Ref, RedirectUri: knownRedirectUri,
            ServerMode: serverMode);
        var step = Sys.ActorOf(EndSessionActor.Props(new EndProviderSession("test", "end-session-1", idTokenHint, StepTimeout), context, _requester.Ref));
        Watch(step);
        return step;
    }

    /// <summary>On a listener that has not bound yet, the step asks its provider first; answered with <paramref name="supported"/>.</summary>
    private void AnswerTheCheck(bool? supported)
    {
        var check = _providers.ExpectMsg<CheckEndSession>();
        Assert.Equal(new CheckEndSession("test", "end-session-1"), check);
        _providers.Reply(new EndSessionChecked("end-session-1", supported));
    }

    /// <summary>Drives the step to the point where the browser is open at the provider.</summary>
    private (IActorRef Step, RegisterState Registration, PrepareEndSession Preparation) StartUntilBrowserOpened(RecordingBrowser browser)
    {
        var step = Start(browser);
        AnswerTheCheck(supported: true);
        var registration = _listener.ExpectMsg<RegisterState>();
        Assert.True(registration.Acknowledge, "an unbound listener answers with its redirect URI once bound");
        _listener.Reply(new StateRegistered("end-session-1", ListenerUri));
        var preparation = _providers.ExpectMsg<PrepareEndSession>();
        _providers.Reply(new EndSessionPrepared("end-session-1", EndSessionUrl, ProviderRedirectUri));
        AwaitCondition(() => browser.Opened.Contains(EndSessionUrl), null, Polling.Interval);
        return (step, registration, preparation);
    }

    [Fact]
    public void The_step_registers_a_sign_out_state_and_asks_the_provider_with_the_hint_and_the_listeners_uri()
    {
        var (_, registration, preparation) = StartUntilBrowserOpened(new RecordingBrowser());

        Assert.True(registration.ForSignOut, "only a sign-out's registration may receive a return without code or error");
        Assert.False(registration.WatchRegistrant);
        Assert.Equal(43, registration.State.Length); // 256 bits, base64url
        Assert.Equal(registration.State, preparation.State);
        Assert.Equal(ListenerUri, preparation.ListenerRedirectUri);
        Assert.Equal("the-id-token", preparation.IdTokenHint);
        Assert.DoesNotContain("the-id-token", preparation.ToString());
    }

    [Fact]
    public void The_providers_return_on_its_redirect_path_ends_the_session_with_the_signed_out_page()
    {
        var (step, _, _) = StartUntilBrowserOpened(new RecordingBrowser());

        step.Tell(new SignOutReturned("end-session-1", "/test"), _browserTab.Ref);

        Assert.Equal(CallbackPages.SignedOut, _browserTab.ExpectMsg<CallbackResponse>());
        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(new ProviderSessionEnded("end-session-1", ProviderSessionOutcome.Ended), ended);
        ExpectTerminated(step);
        // The listener removed the state when it routed the return: nothing to unregister.
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Theory]
    [InlineData(true)]  // before the listener acknowledged the state
    [InlineData(false)] // while the provider builds the end-session URL
    public void A_return_before_the_end_session_URL_went_out_gets_a_400_page_at_once_and_ends_the_step(bool beforeRegistered)
    {
        var browser = new RecordingBrowser();
        var step = Start(browser);
        AnswerTheCheck(supported: true);
        _listener.ExpectMsg<RegisterState>();
        if (!beforeRegistered)
        {
            _listener.Reply(new StateRegistered("end-session-1", ListenerUri));
            _providers.ExpectMsg<PrepareEndSession>();
        }

        step.Tell(new SignOutReturned("end-session-1", "/test"), _browserTab.Ref);

        // Answered at once: unanswered, the browser's request waited for the listener's timeout (~35 s) and got a 504.
        Assert.Equal(CallbackPages.SignOutNotYetSent, _browserTab.ExpectMsg<CallbackResponse>());
        Assert.Equal(400, CallbackPages.SignOutNotYetSent.StatusCode);
        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.Failed, ended.Outcome);
        Assert.Contains("before its end-session URL was handed out", ended.Reason);
        ExpectTerminated(step);
        // The state was spent by the listener when it routed the return: nothing to unregister; no browser opened.
        Assert.DoesNotContain(_listener.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m), m => m is UnregisterState);
        Assert.Empty(browser.Opened);
    }

    [Fact]
    public void A_return_that_races_the_deadline_gets_the_sign_out_ended_page_at_once()
    {
        // In the app the dead-letter watcher runs too: a return that reaches the step only after it stopped is answered there.
        ListeningWatcher.Start(this);
        var (step, _, _) = StartUntilBrowserOpened(new RecordingBrowser());

        // Back to back in the mailbox: the deadline first. The step used to stop at once, so the return went to dead
        // letters unanswered and the browser waited for its request's timeout (a 504 after ~35 s).
        Scheduler.Advance(StepTimeout);
        step.Tell(new SignOutReturned("end-session-1", "/test"), _browserTab.Ref);

        Assert.Equal(ProviderSessionOutcome.TimedOut, _requester.ExpectMsg<ProviderSessionEnded>().Outcome);
        Assert.Equal(CallbackPages.SignOutAlreadyEnded, _browserTab.ExpectMsg<CallbackResponse>());
        Assert.Equal(410, CallbackPages.SignOutAlreadyEnded.StatusCode);
        ExpectTerminated(step);
        _requester.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_return_routed_to_a_step_already_gone_gets_its_page_from_the_dead_letter_watcher()
    {
        ListeningWatcher.Start(this);
        var gone = CreateTestProbe();
        Watch(gone.Ref);
        Sys.Stop(gone.Ref);
        ExpectTerminated(gone.Ref);

        gone.Ref.Tell(new SignOutReturned("end-session-1", "/test"), _browserTab.Ref);

        Assert.Equal(CallbackPages.SignOutAlreadyEnded, _browserTab.ExpectMsg<CallbackResponse>());
    }

    [Fact]
    public void A_return_on_another_providers_path_fails_the_step()
    {
        var (step, _, _) = StartUntilBrowserOpened(new RecordingBrowser());

        step.Tell(new SignOutReturned("end-session-1", "/other"), _browserTab.Ref);

        Assert.Equal(CallbackPages.NotThisSignOut, _browserTab.ExpectMsg<CallbackResponse>());
        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.Failed, ended.Outcome);
        Assert.Contains("'/other'", ended.Reason);
        ExpectTerminated(step);
    }

    /// <summary>
    /// A step whose deadline passed before its end-session URL went out (the listener's bind on first use, or the
    /// provider's metadata, took the whole time) blamed the provider: "is the redirect URI listed among the client's
    /// post-logout redirect URIs?", though no browser was opened and the provider never saw the sign-out.
    /// </summary>
    [Fact]
    public void A_step_that_times_out_before_its_end_session_URL_went_out_says_so_not_that_the_provider_kept_the_browser()
    {
        var browser = new RecordingBrowser();
        var step = Start(browser);
        _providers.ExpectMsg<CheckEndSession>(); // the provider's metadata never answers

        Scheduler.Advance(StepTimeout);

        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.TimedOut, ended.Outcome);
        Assert.Contains("No end-session URL within 60 seconds", ended.Reason);
        Assert.DoesNotContain("post-logout redirect URIs", ended.Reason);
        Assert.Empty(browser.Opened);
        ExpectTerminated(step);
    }

    [Fact]
    public void A_browser_that_never_comes_back_times_out_on_the_scheduler_and_the_state_is_withdrawn()
    {
        var (step, registration, _) = StartUntilBrowserOpened(new RecordingBrowser());

        Scheduler.Advance(StepTimeout - TimeSpan.FromSeconds(1));
        _requester.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Scheduler.Advance(TimeSpan.FromSeconds(1));

        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.TimedOut, ended.Outcome);
        Assert.Contains("60 seconds", ended.Reason);
        Assert.Equal(new UnregisterState(registration.State, "end-session-1"), _listener.ExpectMsg<UnregisterState>());
        ExpectTerminated(step);
    }

    [Fact]
    public void A_provider_without_an_end_session_endpoint_is_reported_at_once_and_nothing_opens()
    {
        var browser = new RecordingBrowser();
        var step = Start(browser, knownRedirectUri: ListenerUri);
        var registration = _listener.ExpectMsg<RegisterState>();
        Assert.False(registration.Acknowledge, "a known redirect URI needs no answer");
        _providers.ExpectMsg<PrepareEndSession>();
        _providers.Reply(new EndSessionPrepared("end-session-1", null, ProviderRedirectUri));

        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.NotSupported, ended.Outcome);
        Assert.Contains("end_session_endpoint", ended.Reason);
        Assert.Empty(browser.Opened);
        _listener.ExpectMsg<UnregisterState>();
        ExpectTerminated(step);
    }

    [Fact]
    public void Where_no_browser_can_be_opened_the_step_fails_at_once_and_opens_nothing()
    {
        var browser = new HeadlessBrowser();
        var step = Start(browser, knownRedirectUri: ListenerUri);
        _listener.ExpectMsg<RegisterState>();
        _providers.ExpectMsg<PrepareEndSession>();
        _providers.Reply(new EndSessionPrepared("end-session-1", EndSessionUrl, ProviderRedirectUri));

        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.Failed, ended.Outcome);
        Assert.Contains("no display", ended.Reason);
        Assert.Equal(0, browser.Launches);
        _listener.ExpectMsg<UnregisterState>();
        ExpectTerminated(step);
    }

    [Fact]
    public void A_browser_that_did_not_open_leaves_the_shown_url_until_the_deadline()
    {
        // As for a login: the system launcher printed the URL, and the user may still open it.
        var step = Start(new FailingLauncher(), knownRedirectUri: ListenerUri);
        _listener.ExpectMsg<RegisterState>();
        _providers.ExpectMsg<PrepareEndSession>();
        _providers.Reply(new EndSessionPrepared("end-session-1", EndSessionUrl, ProviderRedirectUri));
        _requester.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        step.Tell(new SignOutReturned("end-session-1", "/test"), _browserTab.Ref);

        Assert.Equal(CallbackPages.SignedOut, _browserTab.ExpectMsg<CallbackResponse>());
        Assert.Equal(ProviderSessionOutcome.Ended, _requester.ExpectMsg<ProviderSessionEnded>().Outcome);
    }

    [Fact]
    public void A_refused_registration_or_an_unavailable_provider_fails_the_step_with_its_reason()
    {
        Start(new RecordingBrowser());
        AnswerTheCheck(supported: true);
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistrationRefused("end-session-1", "The redirect listener is stopping."));
        Assert.Equal(new ProviderSessionEnded("end-session-1", ProviderSessionOutcome.Failed, "The redirect listener is stopping."),
            _requester.ExpectMsg<ProviderSessionEnded>());

        Start(new RecordingBrowser(), knownRedirectUri: ListenerUri);
        _listener.ExpectMsg<RegisterState>();
        _providers.ExpectMsg<PrepareEndSession>();
        _providers.Reply(new ProviderUnavailable("end-session-1", "The provider 'test' could not be resolved: offline"));
        Assert.Equal(new ProviderSessionEnded("end-session-1", ProviderSessionOutcome.Failed, "The provider 'test' could not be resolved: offline"),
            _requester.ExpectMsg<ProviderSessionEnded>());
    }

    [Fact]
    public void On_an_unbound_listener_a_provider_without_an_end_session_endpoint_binds_nothing()
    {
        var browser = new RecordingBrowser();
        var step = Start(browser);

        AnswerTheCheck(supported: false);

        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.NotSupported, ended.Outcome);
        Assert.Contains("end_session_endpoint", ended.Reason);
        ExpectTerminated(step);
        // No state was registered, so the listener was never asked to bind (nor to forget anything).
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Empty(browser.Opened);
    }

    [Fact]
    public void On_an_unbound_listener_no_browser_or_an_unavailable_provider_fails_the_step_before_anything_binds()
    {
        var headless = Start(new HeadlessBrowser());
        AnswerTheCheck(supported: true);
        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.Failed, ended.Outcome);
        Assert.Contains("no display", ended.Reason);
        ExpectTerminated(headless);

        var unresolved = Start(new RecordingBrowser());
        _providers.ExpectMsg<CheckEndSession>();
        _providers.Reply(new ProviderUnavailable("end-session-1", "The provider 'test' could not be resolved: offline"));
        Assert.Equal(new ProviderSessionEnded("end-session-1", ProviderSessionOutcome.Failed, "The provider 'test' could not be resolved: offline"),
            _requester.ExpectMsg<ProviderSessionEnded>());
        ExpectTerminated(unresolved);

        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void On_an_unbound_listener_a_provider_that_cannot_tell_before_its_url_binds_and_asks_for_the_url()
    {
        // An app's own strategy: only its end-session URL tells whether it has an endpoint.
        var browser = new RecordingBrowser();
        Start(browser);
        AnswerTheCheck(supported: null);
        Assert.True(_listener.ExpectMsg<RegisterState>().Acknowledge);
        _listener.Reply(new StateRegistered("end-session-1", ListenerUri));
        _providers.ExpectMsg<PrepareEndSession>();
        _providers.Reply(new EndSessionPrepared("end-session-1", null, ProviderRedirectUri));

        Assert.Equal(ProviderSessionOutcome.NotSupported, _requester.ExpectMsg<ProviderSessionEnded>().Outcome);
        _listener.ExpectMsg<UnregisterState>();
    }

    [Fact]
    public void In_server_mode_the_step_fails_at_once_and_opens_nothing()
    {
        var browser = new RecordingBrowser();
        var step = Start(browser, knownRedirectUri: new Uri("https://app.example.com/oauth/callback"), serverMode: true);
        _listener.ExpectMsg<RegisterState>();

        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.Failed, ended.Outcome);
        Assert.Contains("BeginSignOutAsync", ended.Reason);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Empty(browser.Opened);
        _listener.ExpectMsg<UnregisterState>();
        ExpectTerminated(step);
    }

    [Fact]
    public void A_step_stopped_from_outside_still_answers_once_and_withdraws_its_state()
    {
        var (step, registration, _) = StartUntilBrowserOpened(new RecordingBrowser());

        Sys.Stop(step);

        var ended = _requester.ExpectMsg<ProviderSessionEnded>();
        Assert.Equal(ProviderSessionOutcome.Failed, ended.Outcome);
        Assert.Equal(new UnregisterState(registration.State, "end-session-1"), _listener.ExpectMsg<UnregisterState>());
        _requester.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    /// <summary>A machine without a display: it says so before anything is launched.</summary>
    private sealed class HeadlessBrowser : IBrowserLauncher, IBrowserAvailability
    {
        private int _launches;

        public int Launches => Volatile.Read(ref _launches);

        public string? UnavailableReason => "no display";

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _launches);
            return Task.FromResult(BrowserLaunchResult.NotLaunched("no display"));
        }
    }

    /// <summary>A launcher that found no opener (and, as the system launcher does, showed the URL instead).</summary>
    private sealed class FailingLauncher : IBrowserLauncher
    {
        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
            Task.FromResult(BrowserLaunchResult.NotLaunched("no browser opener found"));
    }
}
