using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Flows;

/// <summary>One login's state machine, driven by probes in virtual time.</summary>
public sealed class FlowActorTests : TestKit
{
    private static readonly Uri RedirectUri = new("https://localhost:41539/");
    // What the provider actor makes of the listener's URI: the provider's own path under it.
    private static readonly Uri ProviderRedirectUri = new("https://localhost:41539/test");
    private static readonly Uri AuthorizeUrl = new("https://provider.test/authorize?x=1");
    private static readonly TimeSpan LoginTimeout = TimeSpan.FromSeconds(30);
    private static readonly LoginOptions Options = new() { Timeout = LoginTimeout, ExchangeTimeout = TimeSpan.FromSeconds(10) };

    private readonly TestProbe _listener;
    private readonly TestProbe _providers;
    // The providers as a login sees them: browser-login checks accepted, the rest to _providers.
    private readonly IActorRef _providersFront;
    private readonly TestProbe _outcomes;
    private readonly TestProbe _browserTab;
    private readonly RecordingBrowser _browser = new();

    public FlowActorTests() : base(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""")
    {
        _listener = CreateTestProbe();
        _providers = CreateTestProbe();
        _providersFront = Sys.ActorOf(ProviderChecksAccepted.Props(_providers.Ref));
        _outcomes = CreateTestProbe();
        _browserTab = CreateTestProbe();
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private sealed record Started(IActorRef Flow, RegisterState Registration, PrepareAuthorization Preparation);

    /// <summary>Drives a new login to the point where it waits for the browser.</summary>
    private Started StartLogin(ProviderDescriptor? descriptor = null, string flowId = "f1")
    {
        var flow = Sys.ActorOf(FlowActor.Props(flowId, "test", AuthorizationRequest.Default, Options,
            _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        Watch(flow);
        // Earlier logins of the same test may still be unregistering on this probe.
        var registration = (RegisterState)_listener.FishForMessage(m => m is RegisterState);
        _listener.Reply(new StateRegistered(flowId, RedirectUri));
        var preparation = _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared(flowId, AuthorizeUrl, descriptor ?? ProviderDescriptor.Static, ProviderRedirectUri));
        AwaitCondition(() => _browser.Opened.Contains(AuthorizeUrl), null, Polling.Interval);
        return new Started(flow, registration, preparation);
    }

    private void SendCallback(IActorRef flow, string? code = "the-code", string? error = null, string? description = null, string? iss = null,
        string path = "/test") =>
        flow.Tell(new AuthorizationCallback("f1", code, error, description, iss, path), _browserTab.Ref);

    /// <summary>A login that ended before its callback withdraws its state from the listener, then stops.</summary>
    private void ExpectEndedAndStopped(IActorRef flow, string state)
    {
        _listener.FishForMessage(m => m is UnregisterState u && u.State == state);
        ExpectTerminated(flow);
    }

    /// <summary>
    /// A login the listener holds no state of stops without unregistering: after its callback (the listener removed the
    /// state when it routed the callback, states are single use) or after the listener refused it, an UnregisterState
    /// would be a message for nothing.
    /// </summary>
    private void ExpectStoppedWithoutUnregistering(IActorRef flow, string state)
    {
        ExpectTerminated(flow);
        var sent = _listener.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);
        Assert.DoesNotContain(sent, m => m is UnregisterState u && u.State == state);
    }

    /// <summary>A login whose context already knows the listener's redirect URI, as the supervisor's logins do once the listener answered.</summary>
    private IActorRef StartLoginKnowingTheRedirectUri()
    {
        var context = new FlowContext(Options, _listener.Ref, _providersFront, _browser, _outcomes.Ref, RedirectUri: RedirectUri);
        var flow = Sys.ActorOf(FlowActor.Props(new FlowStart(context, "f1", "test", AuthorizationRequest.Default)));
        Watch(flow);
        return flow;
    }

    [Theory]
    [InlineData(null, "urn:mfa urn:phr")]             // the login names none: the provider's
    [InlineData("urn:pwd urn:phr", "urn:phr")]        // a login narrows the provider's requirement
    [InlineData("urn:pwd", "")]                       // and never widens it: no sign-in passes (the provider actor refuses such a login first)
    public void The_ID_token_must_show_an_acr_among_the_logins_values_and_the_providers_alike(string? loginAcr, string accepted)
    {
        // Before: a login's own acr_values (ExtraParameters, which an app may fill from a user's query) replaced the
        // provider's, so a provider that requires urn:mfa took a urn:pwd sign-in.
        var request = new AuthorizationRequest(Timeout: LoginTimeout,
            ExtraParameters: loginAcr is null ? null : new Dictionary<string, string> { ["acr_values"] = loginAcr });
        var flow = Sys.ActorOf(FlowActor.Props("f1", "test", request, Options, _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("f1", RedirectUri));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("f1", AuthorizeUrl, ProviderDescriptor.Static, ProviderRedirectUri)
        {
            RequiredStepUp = new StepUp.Requirement(null, ["urn:mfa", "urn:phr"]),
        });
        AwaitCondition(() => _browser.Opened.Contains(AuthorizeUrl), null, Polling.Interval);

        SendCallback(flow);

        Assert.Equal(accepted.Split(' ', StringSplitOptions.RemoveEmptyEntries), _providers.ExpectMsg<ExchangeCode>().AcceptedAcrValues);
    }

    [Fact]
    public void Logins_share_their_templates_deployment_and_a_copy_of_their_props_still_starts_the_login()
    {
        // One deployment per supervisor: Akka builds every new Deploy with a HOCON parse, which per login was measurable.
        var template = FlowActor.Template("akka.actor.default-dispatcher");
        var context = new FlowContext(Options, _listener.Ref, _providersFront, _browser, _outcomes.Ref);
        var first = FlowActor.Props(new FlowStart(context, "f1", "test", AuthorizationRequest.Default), template);
        var second = FlowActor.Props(new FlowStart(context, "f2", "test", AuthorizationRequest.Default), template);
        Assert.Same(template.Deploy, first.Deploy);
        Assert.Same(template.Deploy, second.Deploy);
        Assert.Equal("akka.actor.default-dispatcher", first.Deploy.Dispatcher);
        Assert.Equal(typeof(FlowActor), first.Type);

        // Akka copies props when a deployment or strategy is added; the copy creates the same login.
        Sys.ActorOf(second.WithSupervisorStrategy(SupervisorStrategy.StoppingStrategy));
        Assert.Equal("f2", _listener.ExpectMsg<RegisterState>().LoginId);
    }

    /// <summary>
    /// While the listener has not bound (its redirect URI unknown), a login asks its provider first whether it would take
    /// it; refused there (here: the provider cannot check the step-up asked for), it ends with the provider's reason and
    /// never registers with the listener, so nothing binds a port for it.
    /// </summary>
    [Fact]
    public void A_login_its_provider_refuses_before_the_listener_has_bound_never_registers_with_the_listener()
    {
        var request = AuthorizationRequest.Default with { ExtraParameters = new Dictionary<string, string> { ["max_age"] = "60" } };
        var flow = Sys.ActorOf(FlowActor.Props("f1", "test", request, Options, _listener.Ref, _providers.Ref, _browser, _outcomes.Ref));

        var check = _providers.ExpectMsg<CheckBrowserLogin>();
        Assert.Equal(("test", "f1", "60"), (check.Provider, check.LoginId, check.ExtraParameters["max_age"]));
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        flow.Tell(new ProviderUnavailable("f1", "The provider 'test' validates no ID tokens.", LoginFailure.IdTokenInvalid), _providers.Ref);

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal((LoginFailure.IdTokenInvalid, "The provider 'test' validates no ID tokens."), (failed.Failure, failed.Reason));
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>The provider accepts the check: the login registers with the listener, waits for it to bind, then prepares its URL.</summary>
    [Fact]
    public void A_login_its_provider_accepts_before_the_listener_has_bound_registers_and_waits_for_the_listener()
    {
        Sys.ActorOf(FlowActor.Props("f1", "test", AuthorizationRequest.Default, Options, _listener.Ref, _providers.Ref, _browser, _outcomes.Ref));

        _providers.ExpectMsg<CheckBrowserLogin>();
        _providers.Reply(new BrowserLoginAccepted("f1"));
        var registration = _listener.ExpectMsg<RegisterState>();
        Assert.True(registration.Acknowledge);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        _listener.Reply(new StateRegistered("f1", RedirectUri));

        Assert.Equal(registration.State, _providers.ExpectMsg<PrepareAuthorization>().State);
    }

    [Fact]
    public void A_login_that_knows_the_redirect_URI_asks_for_its_authorize_URL_without_waiting_for_the_listeners_answer()
    {
        var flow = StartLoginKnowingTheRedirectUri();

        var registration = _listener.ExpectMsg<RegisterState>();
        Assert.False(registration.Acknowledge);
        // No StateRegistered was sent, and the login is already at the provider with the known URI and its registered state.
        var preparation = _providers.ExpectMsg<PrepareAuthorization>();
        Assert.Equal(RedirectUri, preparation.RedirectUri);
        Assert.Equal(registration.State, preparation.State);

        _providers.Reply(new AuthorizationPrepared("f1", AuthorizeUrl, ProviderDescriptor.Static, ProviderRedirectUri));
        AwaitCondition(() => _browser.Opened.Contains(AuthorizeUrl), null, Polling.Interval);
        SendCallback(flow);
        Assert.Equal("the-code", _providers.ExpectMsg<ExchangeCode>().Code);
        _providers.Reply(new CodeExchanged("f1", new TokenSet("access", "Bearer")));
        _outcomes.ExpectMsg<LoginSucceeded>();
        ExpectStoppedWithoutUnregistering(flow, registration.State);
    }

    [Fact]
    public void A_refusal_that_reaches_a_login_which_did_not_wait_for_it_ends_the_login_in_the_phase_it_is_in()
    {
        var flow = StartLoginKnowingTheRedirectUri();
        var registration = _listener.ExpectMsg<RegisterState>();
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("f1", AuthorizeUrl, ProviderDescriptor.Static, ProviderRedirectUri));
        AwaitCondition(() => _browser.Opened.Contains(AuthorizeUrl), null, Polling.Interval); // waiting for its callback

        flow.Tell(new StateRegistrationRefused("f1", "The redirect listener is stopping."), _listener.Ref);

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.ListenerUnavailable, failed.Failure);
        Assert.Contains("stopping", failed.Reason);
        // Refused, the listener holds nothing of this login: it stops without unregistering.
        ExpectStoppedWithoutUnregistering(flow, registration.State);
    }

    [Fact]
    public void The_listeners_loss_ends_a_login_waiting_for_its_redirect_but_not_one_whose_code_is_being_exchanged()
    {
        var waiting = StartLogin(flowId: "f2");
        var exchanging = StartLogin();
        SendCallback(exchanging.Flow);
        _providers.ExpectMsg<ExchangeCode>();

        waiting.Flow.Tell(new ListenerLost("The redirect listener failed."));
        exchanging.Flow.Tell(new ListenerLost("The redirect listener failed."));

        // The one still waiting can no longer be reached by its browser; the other's code is spent and its answer due.
        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(("f2", LoginFailure.ListenerUnavailable), (failed.LoginId, failed.Failure));
        var tokens = new TokenSet("access", "Bearer");
        _providers.Send(exchanging.Flow, new CodeExchanged("f1", tokens));
        Assert.Same(tokens, _outcomes.ExpectMsg<LoginSucceeded>().Tokens);
    }

    /// <summary>
    /// A redirect with a login's state before its authorize URL went out cannot be genuine (nobody has seen the state),
    /// and the listener spent the state routing it: the login ends at once with a clear failure, its code unused, and no
    /// browser is opened for a sign-in whose redirect would be refused.
    /// </summary>
    [Theory]
    [InlineData(false)] // while the provider builds the authorize URL
    [InlineData(true)]  // before the listener acknowledged the state
    public void A_callback_before_the_authorize_URL_went_out_ends_the_login_at_once_with_a_400_page_and_its_code_unused(bool beforeRegistered)
    {
        var flow = Sys.ActorOf(FlowActor.Props("f1", "test", AuthorizationRequest.Default, Options,
            _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        Watch(flow);
        var registration = _listener.ExpectMsg<RegisterState>();
        if (!beforeRegistered)
        {
            _listener.Reply(new StateRegistered("f1", RedirectUri));
            _providers.ExpectMsg<PrepareAuthorization>();
        }

        SendCallback(flow, code: "early-code");

        var page = _browserTab.ExpectMsg<CallbackResponse>();
        Assert.Equal((400, CallbackPageKind.Failed), (page.StatusCode, page.Kind));
        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(("f1", LoginFailure.InvalidCallback), (failed.LoginId, failed.Failure));
        Assert.Contains("before its authorize URL was handed out", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("early-code", failed.Reason + page.Detail, StringComparison.Ordinal);
        // The state is spent (the listener removed it when it routed the callback): nothing to unregister.
        ExpectStoppedWithoutUnregistering(flow, registration.State);

        // The preparation still at the provider is taken back (a pushed request is then never sent for it); the provider's
        // late answer finds the login gone: no browser opens, and the code never reaches the token endpoint.
        if (!beforeRegistered)
        {
            Assert.Equal(new WithdrawExchange("test", "f1"), _providers.ExpectMsg<WithdrawExchange>());
            flow.Tell(new AuthorizationPrepared("f1", AuthorizeUrl, ProviderDescriptor.Static, ProviderRedirectUri), _providers.Ref);
        }

        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Empty(_browser.Opened);
    }

    [Fact]
    public void A_login_waiting_for_its_authorize_URL_ends_when_the_listener_is_lost()
    {
        var flow = StartLoginKnowingTheRedirectUri();
        _providers.ExpectMsg<PrepareAuthorization>();

        flow.Tell(new ListenerLost("The redirect listener failed."));

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(("f1", LoginFailure.ListenerUnavailable), (failed.LoginId, failed.Failure));
        ExpectTerminated(flow);
    }

    /// <summary>
    /// An account's own login cancelled because the app signed the account in through another login: the tokens its spent
    /// code still brings are dropped, not revoked, as the account says. Revoked, a provider whose revocation ends the whole
    /// grant (Google's) ended the sign-in just stored with them, and the user had to sign in again.
    /// </summary>
    [Fact]
    public void A_login_cancelled_for_a_newer_sign_in_of_its_account_drops_the_tokens_that_come_after_instead_of_revoking_them()
    {
        var login = StartLogin();
        SendCallback(login.Flow);
        _providers.ExpectMsg<ExchangeCode>();
        Watch(login.Flow);

        login.Flow.Tell(new CancelFlow("f1") { DropLateTokens = true });
        Assert.Equal("f1", _outcomes.ExpectMsg<LoginCancelled>().LoginId);
        _providers.ExpectMsg<WithdrawExchange>();
        _providers.Send(login.Flow, new CodeExchanged("f1", UnclaimedTokens.Issued));

        ExpectTerminated(login.Flow);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // no RevokeTokens

        // Cancelled first for its callers (revoking), then told the account holds a newer sign-in: dropped all the same.
        var earlier = StartLogin(flowId: "f2");
        SendCallback(earlier.Flow);
        _providers.ExpectMsg<ExchangeCode>();
        Watch(earlier.Flow);
        earlier.Flow.Tell(new CancelFlow("f2"));
        _outcomes.ExpectMsg<LoginCancelled>();
        _providers.ExpectMsg<WithdrawExchange>();
        earlier.Flow.Tell(new CancelFlow("f2") { DropLateTokens = true });
        _providers.Send(earlier.Flow, new CodeExchanged("f2", UnclaimedTokens.Issued));
        ExpectTerminated(earlier.Flow);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_login_cancelled_while_its_code_is_exchanged_answers_at_once_and_revokes_the_tokens_that_come_after()
    {
        var login = StartLogin();
        SendCallback(login.Flow);
        _providers.ExpectMsg<ExchangeCode>();

        login.Flow.Tell(new CancelFlow("f1"));
        Assert.Equal("f1", _outcomes.ExpectMsg<LoginCancelled>().LoginId);
        Assert.Equal(new WithdrawExchange("test", "f1"), _providers.ExpectMsg<WithdrawExchange>()); // too late here: it was sent

        // The provider issued tokens for the spent code; nobody will take them, so they are revoked, refresh token first.
        _providers.Send(login.Flow, new CodeExchanged("f1", UnclaimedTokens.Issued));
        UnclaimedTokens.ExpectRevokedThenStopped(this, _providers, login.Flow);
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // the caller had its one outcome
    }

    [Fact]
    public void Tokens_that_answer_a_login_stopped_from_outside_mid_exchange_are_revoked_by_the_provider_that_issued_them()
    {
        ListeningWatcher.Start(this); // as in every O8Actors system: it takes what reaches no actor
        var login = StartLogin();
        Watch(login.Flow);
        SendCallback(login.Flow);
        _providers.ExpectMsg<ExchangeCode>();

        // Stopped from outside while its code is at the provider (its cluster entity moved, its node stopped).
        Sys.Stop(login.Flow);
        ExpectTerminated(login.Flow);

        // The provider's answer finds nobody: the tokens are live there and nobody's, so they go back to be revoked.
        _providers.Send(login.Flow, new CodeExchanged("f1", UnclaimedTokens.Issued) { ForLogin = true });
        Assert.Same(UnclaimedTokens.Issued, _providers.FishForMessage<RevokeUnclaimedTokens>(_ => true).Tokens);
    }

    [Fact]
    public void A_refresh_answer_that_finds_its_account_gone_is_never_revoked()
    {
        // A provider that does not rotate hands back the account's own refresh token: revoking it would sign the user out.
        ListeningWatcher.Start(this);
        var account = CreateTestProbe();
        Watch(account.Ref);
        Sys.Stop(account.Ref);
        ExpectTerminated(account.Ref);

        _providers.Send(account.Ref, new CodeExchanged("refresh-1", UnclaimedTokens.Issued));

        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_login_cancelled_while_its_code_is_exchanged_stops_once_the_exchange_fails_or_its_deadline_passes()
    {
        var failed = StartLogin();
        SendCallback(failed.Flow);
        _providers.ExpectMsg<ExchangeCode>();
        failed.Flow.Tell(new CancelFlow("f1"));
        _outcomes.ExpectMsg<LoginCancelled>();
        _providers.ExpectMsg<WithdrawExchange>();
        _providers.Send(failed.Flow, new CodeExchangeFailed("f1", LoginFailure.TokenExchange, "invalid_grant", "invalid_grant"));
        ExpectTerminated(failed.Flow);

        var silent = StartLogin(flowId: "f2");
        silent.Flow.Tell(new AuthorizationCallback("f2", "the-code", null, null, null, "/test"), _browserTab.Ref);
        _providers.ExpectMsg<ExchangeCode>();
        silent.Flow.Tell(new CancelFlow("f2"));
        _outcomes.ExpectMsg<LoginCancelled>();
        _providers.ExpectMsg<WithdrawExchange>();
        Scheduler.Advance(Options.ExchangeTimeout + TimeSpan.FromSeconds(1));
        ExpectTerminated(silent.Flow);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Registers_a_fresh_256_bit_state_and_an_S256_challenge()
    {
        var first = StartLogin();
        var second = StartLogin(flowId: "f2");

        Assert.Equal(43, first.Registration.State.Length);
        Assert.NotEqual(first.Registration.State, second.Registration.State);
        Assert.Equal(first.Registration.State, first.Preparation.State);
        Assert.Equal(RedirectUri, first.Preparation.RedirectUri);
        Assert.NotNull(first.Preparation.CodeChallenge);
        Assert.Equal(43, first.Preparation.CodeChallenge!.Length);
    }

    [Fact]
    public void Success_exchanges_the_code_once_with_the_matching_verifier_and_shows_the_success_page_after_it()
    {
        var login = StartLogin();
        SendCallback(login.Flow);

        var exchange = _providers.ExpectMsg<ExchangeCode>();
        Assert.Equal("the-code", exchange.Code);
        Assert.Equal(ProviderRedirectUri, exchange.RedirectUri); // the URI the authorize request carried, sent again

        Assert.Equal(login.Preparation.CodeChallenge, FlowSecrets.ChallengeFor(exchange.CodeVerifier!));
        _browserTab.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // no page before the exchange finished

        var tokens = new TokenSet("access", "Bearer", RefreshToken: "refresh");
        _providers.Reply(new CodeExchanged("f1", tokens));

        Assert.Equal(CallbackPageKind.Success, _browserTab.ExpectMsg<CallbackResponse>().Kind);
        Assert.Same(tokens, _outcomes.ExpectMsg<LoginSucceeded>().Tokens);
        ExpectStoppedWithoutUnregistering(login.Flow, login.Registration.State);
    }

    [Theory]
    [InlineData("/")]            // the shared callback path: another provider's (or an OAuthFlow's) redirect URI
    [InlineData("/honest")]      // another provider's own path
    [InlineData("/test/")]       // not the exact path (RFC 9700 exact matching)
    public void A_callback_on_another_path_ends_as_RedirectMismatch_with_a_400_page_and_its_code_is_never_exchanged(string path)
    {
        var login = StartLogin();
        SendCallback(login.Flow, path: path, iss: null);

        var page = _browserTab.ExpectMsg<CallbackResponse>();
        Assert.Equal(400, page.StatusCode);
        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.RedirectMismatch, failed.Failure);
        Assert.Contains($"'{path}'", failed.Reason);
        Assert.Contains("'/test'", failed.Reason);
        Assert.DoesNotContain("the-code", failed.Reason + page.Detail);
        // The path is the request's to choose: the reason (the app's, its log's) quotes it, the page does not.
        Assert.Equal(CallbackPages.NotTheCallbackAddress.Detail, page.Detail);
        ExpectStoppedWithoutUnregistering(login.Flow, login.Registration.State);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // no ExchangeCode
    }

    [Fact]
    public void A_provider_error_on_another_path_is_not_taken_for_this_providers_refusal()
    {
        var login = StartLogin();
        SendCallback(login.Flow, code: null, error: "access_denied", path: "/honest");

        Assert.Equal(LoginFailure.RedirectMismatch, _outcomes.ExpectMsg<LoginFailed>().Failure);
        Assert.Equal(400, _browserTab.ExpectMsg<CallbackResponse>().StatusCode);
    }

    [Fact]
    public void Provider_error_ends_as_denied_without_an_exchange()
    {
        var login = StartLogin();
        SendCallback(login.Flow, code: null, error: "access_denied", description: "The user said <no>");

        var denied = _outcomes.ExpectMsg<LoginDenied>();
        Assert.Equal("access_denied", denied.Error);
        Assert.Equal("The user said <no>", denied.ErrorDescription);
        var page = _browserTab.ExpectMsg<CallbackResponse>();
        Assert.Equal((403, CallbackPageKind.Denied), (page.StatusCode, page.Kind));
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        ExpectStoppedWithoutUnregistering(login.Flow, login.Registration.State);
    }

    [Fact]
    public void No_callback_before_the_deadline_ends_as_timed_out()
    {
        var login = StartLogin();

        Scheduler.Advance(LoginTimeout - TimeSpan.FromSeconds(1));
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Scheduler.Advance(TimeSpan.FromSeconds(1));

        var timedOut = _outcomes.ExpectMsg<LoginTimedOut>();
        Assert.Equal(LoginTimeout, timedOut.Timeout);
        Assert.Equal(TimedOutWaiting.Redirect, timedOut.Waiting);
        ExpectEndedAndStopped(login.Flow, login.Registration.State);
    }

    [Fact]
    public void Request_timeout_overrides_the_configured_one()
    {
        Sys.ActorOf(FlowActor.Props("f1", "test", new AuthorizationRequest(Timeout: TimeSpan.FromSeconds(3)), Options,
            _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        _listener.ExpectMsg<RegisterState>();

        Scheduler.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(TimeSpan.FromSeconds(3), _outcomes.ExpectMsg<LoginTimedOut>().Timeout);
    }

    /// <summary>
    /// A deadline that passes before the login had its authorize URL (the listener still binding on first use, the
    /// provider's discovery or pushed request slow): no browser was opened, and the caller was told the browser was not
    /// redirected back, while what held the login up went unsaid.
    /// </summary>
    [Theory]
    [InlineData(false)] // the listener never answered the registration
    [InlineData(true)]  // the provider never prepared the authorize URL
    public void A_deadline_before_the_authorize_URL_says_no_browser_was_opened_not_that_it_was_not_redirected_back(bool registered)
    {
        Sys.ActorOf(FlowActor.Props("f1", "test", new AuthorizationRequest(Timeout: TimeSpan.FromSeconds(3)), Options,
            _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        _listener.ExpectMsg<RegisterState>();
        if (registered)
        {
            _listener.Reply(new StateRegistered("f1", RedirectUri));
            _providers.ExpectMsg<PrepareAuthorization>();
        }

        Scheduler.Advance(TimeSpan.FromSeconds(3));

        var timedOut = _outcomes.ExpectMsg<LoginTimedOut>();
        Assert.Equal(TimedOutWaiting.AuthorizeUrl, timedOut.Waiting);
        var error = AuthorizationTimeoutException.For(timedOut);
        Assert.Contains("no authorize URL within 3 seconds", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("redirected back", error.Message, StringComparison.Ordinal);
        Assert.Empty(_browser.Opened);
    }

    [Fact]
    public void A_deadline_after_the_browser_was_opened_says_it_was_not_redirected_back()
    {
        StartLogin();

        Scheduler.Advance(LoginTimeout);

        var timedOut = _outcomes.ExpectMsg<LoginTimedOut>();
        Assert.Equal(TimedOutWaiting.Redirect, timedOut.Waiting);
        Assert.Contains("redirected back", AuthorizationTimeoutException.For(timedOut).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_ends_as_cancelled_while_waiting_and_while_exchanging()
    {
        var waiting = StartLogin();
        waiting.Flow.Tell(new CancelFlow("f1"));
        _outcomes.ExpectMsg<LoginCancelled>();
        ExpectEndedAndStopped(waiting.Flow, waiting.Registration.State);

        var exchanging = StartLogin(flowId: "f2");
        SendCallback(exchanging.Flow);
        _providers.ExpectMsg<ExchangeCode>();
        exchanging.Flow.Tell(new CancelFlow("f2"));
        _outcomes.ExpectMsg<LoginCancelled>();
        Assert.Equal(409, _browserTab.ExpectMsg<CallbackResponse>().StatusCode);
    }

    [Fact]
    public void A_login_stopped_from_outside_mid_exchange_gives_its_browser_a_page_and_frees_its_state()
    {
        var login = StartLogin();
        SendCallback(login.Flow);
        _providers.ExpectMsg<ExchangeCode>();

        Sys.Stop(login.Flow);

        Assert.Equal(CallbackPages.LoginGone, _browserTab.ExpectMsg<CallbackResponse>());
        ExpectStoppedWithoutUnregistering(login.Flow, login.Registration.State);
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // the supervisor reports this one (it watches its flows)
    }

    [Fact]
    public void Exchange_failure_ends_as_failed_with_the_providers_error_and_a_failure_page()
    {
        var login = StartLogin();
        SendCallback(login.Flow);
        _providers.ExpectMsg<ExchangeCode>();
        _providers.Reply(new CodeExchangeFailed("f1", LoginFailure.TokenExchange, "The token endpoint refused: invalid_grant.", "invalid_grant"));

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal((LoginFailure.TokenExchange, "invalid_grant"), (failed.Failure, failed.ProviderError));
        var page = _browserTab.ExpectMsg<CallbackResponse>();
        Assert.Equal((502, CallbackPageKind.Failed), (page.StatusCode, page.Kind));
    }

    [Fact]
    public void A_token_endpoint_that_never_answers_ends_as_exchange_timeout()
    {
        var login = StartLogin();
        SendCallback(login.Flow);
        _providers.ExpectMsg<ExchangeCode>();

        // The login deadline no longer applies once the browser is back ...
        Scheduler.Advance(Options.ExchangeTimeout);
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        // ... the exchange deadline (exchange timeout + 1 s) does.
        Scheduler.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(LoginFailure.ExchangeTimeout, _outcomes.ExpectMsg<LoginFailed>().Failure);
        Assert.Equal(504, _browserTab.ExpectMsg<CallbackResponse>().StatusCode);
    }

    [Fact]
    public void Tokens_that_land_after_the_exchange_deadline_ended_the_login_but_before_it_stopped_are_revoked()
    {
        var login = StartLogin();
        SendCallback(login.Flow);
        _providers.ExpectMsg<ExchangeCode>();
        // The provider's answer lands the moment the login ends on its exchange deadline: the outcome reaches this probe
        // on the login's own thread (a test probe's dispatcher runs it there), before the login queues its stop.
        _outcomes.SetAutoPilot(new DelegateAutoPilot((_, message) =>
        {
            if (message is LoginFailed) _providers.Send(login.Flow, new CodeExchanged("f1", UnclaimedTokens.Issued) { ForLogin = true });
            return AutoPilot.KeepRunning;
        }));

        Scheduler.Advance(ExchangeTimeouts.LoginDeadline(Options.ExchangeTimeout));

        Assert.Equal(LoginFailure.ExchangeTimeout, _outcomes.ExpectMsg<LoginFailed>().Failure);
        // The caller heard ExchangeTimeout and will never take them: the provider that issued them revokes them.
        Assert.Same(UnclaimedTokens.Issued, _providers.ExpectMsg<RevokeUnclaimedTokens>().Tokens);
        ExpectTerminated(login.Flow);
    }

    [Fact]
    public void Issuer_mismatch_is_rejected_before_any_exchange()
    {
        var login = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: true));
        SendCallback(login.Flow, iss: "https://attacker.example/Your-account-is-locked.-Call-555-0100");

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.IssuerMismatch, failed.Failure);
        Assert.Contains("https://attacker.example", failed.Reason);
        var page = _browserTab.ExpectMsg<CallbackResponse>();
        Assert.Equal(400, page.StatusCode);
        // The iss is the other server's to write: the reason (the app's, its log's) quotes it, the page does not.
        Assert.Equal(CallbackPages.NotThisProvider.Detail, page.Detail);
        Assert.DoesNotContain("attacker", page.Detail);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    /// <summary>
    /// A login stopped from outside (a cluster hand-off, its parent stopping) while the provider prepares its
    /// authorization takes the preparation back, as one that ends does: waiting for the provider's discovery, nothing
    /// watches it, and a pushed request (RFC 9126) would go out for a login that is gone.
    /// </summary>
    [Fact]
    public void A_login_stopped_from_outside_while_its_authorization_is_prepared_takes_the_preparation_back()
    {
        var flow = Sys.ActorOf(FlowActor.Props("f1", "test", AuthorizationRequest.Default, Options,
            _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        Watch(flow);
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("f1", RedirectUri));
        _providers.ExpectMsg<PrepareAuthorization>();

        Sys.Stop(flow);

        ExpectTerminated(flow);
        Assert.Equal(new WithdrawExchange("test", "f1"), _providers.ExpectMsg<WithdrawExchange>());
    }

    /// <summary>
    /// The event of a redirect carried its error before the mix-up checks: a foreign server's words ("account locked, call
    /// support") reached an app that shows <c>CallbackReceivedEvent.Error</c> as the provider's refusal. Such a redirect's
    /// event carries none now; this provider's own refusal still carries its error.
    /// </summary>
    [Fact]
    public void A_foreign_redirects_error_is_not_published_as_the_providers_own()
    {
        var received = CreateTestProbe();
        Sys.EventStream.Subscribe(received.Ref, typeof(CallbackReceivedEvent));
        var foreign = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: true));
        SendCallback(foreign.Flow, code: null, error: "account_locked_call_555_0100", iss: "https://attacker.example");
        Assert.Equal(LoginFailure.IssuerMismatch, _outcomes.ExpectMsg<LoginFailed>().Failure);
        Assert.Null(received.ExpectMsg<CallbackReceivedEvent>().Error);

        var own = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: true), "f2");
        own.Flow.Tell(new AuthorizationCallback("f2", null, "access_denied", null, "https://right.example", "/test"), _browserTab.Ref);
        Assert.Equal("access_denied", _outcomes.ExpectMsg<LoginDenied>().Error);
        Assert.Equal("access_denied", received.ExpectMsg<CallbackReceivedEvent>().Error);
    }

    [Fact]
    public void Missing_iss_is_rejected_only_when_the_provider_promises_it()
    {
        var strict = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: true));
        SendCallback(strict.Flow, iss: null);
        Assert.Equal(LoginFailure.IssuerMismatch, _outcomes.ExpectMsg<LoginFailed>().Failure);

        var lenient = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: false), "f2");
        SendCallback(lenient.Flow, iss: null);
        Assert.Equal("the-code", _providers.ExpectMsg<ExchangeCode>().Code);
    }

    [Fact]
    public void An_iss_on_a_login_whose_provider_has_no_known_issuer_is_refused_before_any_exchange()
    {
        // The mix-up of RFC 9700 section 4.4: the provider (GitHub, Microsoft common, a generic one) never names itself,
        // so an iss can only name another authorization server, for example the honest one an attacker relayed to.
        var login = StartLogin(ProviderDescriptor.Static);
        SendCallback(login.Flow, iss: "https://honest.example");

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.IssuerMismatch, failed.Failure);
        Assert.Contains("https://honest.example", failed.Reason);
        Assert.Contains("unknown", failed.Reason);
        Assert.Equal(400, _browserTab.ExpectMsg<CallbackResponse>().StatusCode);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void An_iss_naming_another_provider_is_refused_even_when_this_provider_does_not_promise_iss()
    {
        var login = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: false));
        SendCallback(login.Flow, iss: "https://other-registered.example");

        Assert.Equal(LoginFailure.IssuerMismatch, _outcomes.ExpectMsg<LoginFailed>().Failure);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void An_error_response_is_checked_for_iss_too()
    {
        // From another server: refused as a mix-up, not reported as this provider's refusal.
        var foreign = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: true));
        SendCallback(foreign.Flow, code: null, error: "access_denied", iss: "https://attacker.example");
        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.IssuerMismatch, failed.Failure);
        Assert.Equal(400, _browserTab.ExpectMsg<CallbackResponse>().StatusCode);

        var missing = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: true), "f2");
        SendCallback(missing.Flow, code: null, error: "access_denied", iss: null);
        Assert.Equal(LoginFailure.IssuerMismatch, _outcomes.ExpectMsg<LoginFailed>().Failure);

        var unknown = StartLogin(ProviderDescriptor.Static, "f3");
        SendCallback(unknown.Flow, code: null, error: "access_denied", iss: "https://attacker.example");
        Assert.Equal(LoginFailure.IssuerMismatch, _outcomes.ExpectMsg<LoginFailed>().Failure);

        // From this provider: still the user's refusal.
        var own = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: true), "f4");
        SendCallback(own.Flow, code: null, error: "access_denied", iss: "https://right.example");
        Assert.Equal("access_denied", _outcomes.ExpectMsg<LoginDenied>().Error);
    }

    [Fact]
    public void Matching_iss_passes()
    {
        var login = StartLogin(new ProviderDescriptor("https://right.example", IssuerParameterSupported: true));
        SendCallback(login.Flow, iss: "https://right.example");
        Assert.Equal("the-code", _providers.ExpectMsg<ExchangeCode>().Code);
    }

    [Fact]
    public void A_replayed_callback_never_starts_a_second_exchange()
    {
        var login = StartLogin();
        SendCallback(login.Flow);
        _providers.ExpectMsg<ExchangeCode>();

        var replayTab = CreateTestProbe();
        login.Flow.Tell(new AuthorizationCallback("f1", "the-code", null, null, null), replayTab.Ref);

        Assert.Equal(400, replayTab.ExpectMsg<CallbackResponse>().StatusCode);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        login.Flow.Tell(new CodeExchanged("f1", new TokenSet("a", "Bearer")));
        _outcomes.ExpectMsg<LoginSucceeded>();
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Callback_racing_the_deadline_yields_exactly_one_outcome_and_a_page_either_way()
    {
        var login = StartLogin();

        // Both land in the mailbox back to back; whichever is first decides, the other must not produce a second outcome.
        Scheduler.Advance(LoginTimeout);
        SendCallback(login.Flow, code: null, error: "access_denied");

        var outcome = _outcomes.ExpectMsg<LoginOutcome>();
        Assert.True(outcome is LoginTimedOut or LoginDenied, outcome.GetType().Name);
        _outcomes.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        var page = _browserTab.ExpectMsg<CallbackResponse>();
        Assert.True(page.StatusCode is 403 or 410, page.ToString());
    }

    [Fact]
    public void A_callback_the_listener_routed_after_the_login_ended_and_stopped_gets_the_ended_page_not_a_server_error()
    {
        ListeningWatcher.Start(this); // as in every O8Actors system: it answers what reaches no login
        var login = StartLogin();
        Watch(login.Flow);

        // The deadline ends the login; the listener routed a callback before it took the unregistration, so the
        // callback reaches the login only after the login has stopped.
        Scheduler.Advance(LoginTimeout);
        _outcomes.ExpectMsg<LoginTimedOut>();
        ExpectTerminated(login.Flow);
        SendCallback(login.Flow);

        var page = _browserTab.ExpectMsg<CallbackResponse>();
        Assert.Equal(CallbackPages.AlreadyEnded, page);
        Assert.Equal(410, page.StatusCode);
    }

    [Fact]
    public void Listener_refusal_ends_as_failed_listener_unavailable()
    {
        Sys.ActorOf(FlowActor.Props("f1", "test", AuthorizationRequest.Default, Options,
            _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistrationRefused("f1", "port 41539 is in use"));

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.ListenerUnavailable, failed.Failure);
        Assert.Contains("41539", failed.Reason);
    }

    [Fact]
    public void Unknown_provider_ends_as_failed_provider_unavailable()
    {
        Sys.ActorOf(FlowActor.Props("f1", "nobody", AuthorizationRequest.Default, Options,
            _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("f1", RedirectUri));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new ProviderUnavailable("f1", "No OAuth provider named 'nobody' is registered."));

        Assert.Equal(LoginFailure.ProviderUnavailable, _outcomes.ExpectMsg<LoginFailed>().Failure);
        Assert.Empty(_browser.Opened);
    }

    /// <summary>
    /// Starts a login with <paramref name="options"/> and answers its preparation as a provider that did
    /// (<paramref name="pkceUsed"/>) or did not put the challenge in the authorize request; returns the login and what it asked.
    /// </summary>
    private (IActorRef Flow, PrepareAuthorization Preparation) StartAndPrepare(bool pkceUsed, LoginOptions? options = null,
        ProviderDescriptor? descriptor = null)
    {
        var flow = Sys.ActorOf(FlowActor.Props("f1", "test", AuthorizationRequest.Default, options ?? Options,
            _listener.Ref, _providersFront, _browser, _outcomes.Ref));
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("f1", RedirectUri));
        var preparation = _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("f1", AuthorizeUrl, descriptor ?? ProviderDescriptor.Static, ProviderRedirectUri, PkceUsed: pkceUsed));
        return (flow, preparation);
    }

    [Fact]
    public void Pkce_off_sends_neither_challenge_nor_verifier()
    {
        var options = new LoginOptions { Timeout = LoginTimeout, ExchangeTimeout = TimeSpan.FromSeconds(10), Pkce = false };
        var (flow, preparation) = StartAndPrepare(pkceUsed: false, options);
        // The provider decides: a confidential client leaves the challenge out (a public one keeps it, whatever the switch says).
        Assert.True(preparation.PkceOffForConfidentialClient);
        SendCallback(flow);
        Assert.Null(_providers.ExpectMsg<ExchangeCode>().CodeVerifier);
    }

    [Fact]
    public void A_login_whose_authorize_request_carried_no_challenge_sends_no_verifier()
    {
        // PKCE on, but the provider does not take it (a confidential client's UsePkce = false, or metadata without
        // S256): a verifier for a code issued without a challenge is refused by the server (RFC 9700 section 2.1.1).
        var (flow, preparation) = StartAndPrepare(pkceUsed: false, descriptor: ProviderDescriptor.Static with { SupportsPkce = false });
        Assert.NotNull(preparation.CodeChallenge);
        Assert.False(preparation.PkceOffForConfidentialClient);
        SendCallback(flow);
        Assert.Null(_providers.ExpectMsg<ExchangeCode>().CodeVerifier);
    }

    [Fact]
    public void A_login_whose_authorize_request_carried_the_challenge_sends_its_verifier()
    {
        var (flow, preparation) = StartAndPrepare(pkceUsed: true);
        SendCallback(flow);
        var verifier = _providers.ExpectMsg<ExchangeCode>().CodeVerifier;
        Assert.NotNull(verifier);
        Assert.Equal(preparation.CodeChallenge, FlowSecrets.ChallengeFor(verifier));
    }

    [Fact]
    public void A_launcher_that_blocks_its_caller_does_not_block_the_login()
    {
        // A launcher may do slow synchronous work before its first await (Process.Start, a D-Bus call): the login must
        // still answer cancellation, callbacks and its deadline meanwhile.
        using var blocking = new BlockingBrowser();
        var flow = Sys.ActorOf(FlowActor.Props("f1", "test", AuthorizationRequest.Default, Options,
            _listener.Ref, _providersFront, blocking, _outcomes.Ref));
        _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("f1", RedirectUri));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("f1", AuthorizeUrl, ProviderDescriptor.Static, ProviderRedirectUri));
        Assert.True(blocking.Entered.Wait(TimeSpan.FromSeconds(10)), "the launcher was never called");

        flow.Tell(new CancelFlow("f1"));

        Assert.Equal("f1", _outcomes.ExpectMsg<LoginCancelled>(TimeSpan.FromSeconds(5)).LoginId);
    }

    [Fact]
    public void A_launcher_that_refuses_the_authorize_URL_fails_the_login_and_frees_its_state()
    {
        // A provider (or an OAuthFlow subclass) whose authorize URL would start another program (file:, javascript:).
        var flow = Sys.ActorOf(FlowActor.Props("f1", "test", AuthorizationRequest.Default, Options,
            _listener.Ref, _providersFront, new O8Actors.Browser.SystemBrowserLauncher(TextWriter.Null), _outcomes.Ref));
        Watch(flow);
        var registration = _listener.ExpectMsg<RegisterState>();
        _listener.Reply(new StateRegistered("f1", RedirectUri));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("f1", new Uri("file:///etc/passwd?state=" + registration.State), ProviderDescriptor.Static, ProviderRedirectUri));

        var failed = _outcomes.ExpectMsg<LoginFailed>(TimeSpan.FromSeconds(5));

        Assert.Equal(LoginFailure.UnsafeAuthorizeUrl, failed.Failure);
        Assert.Contains("'file'", failed.Reason);
        Assert.DoesNotContain(registration.State, failed.Reason);
        _listener.FishForMessage<UnregisterState>(u => u.State == registration.State);
        ExpectTerminated(flow);
    }

    /// <summary>A launcher that blocks the calling thread until the test ends.</summary>
    private sealed class BlockingBrowser : O8Actors.Browser.IBrowserLauncher, IDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        public ManualResetEventSlim Entered { get; } = new();

        public Task<O8Actors.Browser.BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            Entered.Set();
            _release.Wait(TimeSpan.FromSeconds(30));
            return Task.FromResult(O8Actors.Browser.BrowserLaunchResult.Opened("blocking"));
        }

        public void Dispose() => _release.Set();
    }
}
