using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Flows;

/// <summary>The supervisor's delivery guarantees for callers that wait on a completion, how it learns of a login that stops, and the mailbox its logins get.</summary>
public sealed class FlowsSupervisorTests : TestKit
{
    private static readonly LoginOptions Options = new() { Timeout = TimeSpan.FromSeconds(30), ExchangeTimeout = TimeSpan.FromSeconds(10) };
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly TestProbe _listener;
    private readonly TestProbe _providers;
    // The providers as a login sees them: browser-login checks accepted, the rest to _providers.
    private readonly IActorRef _providersFront;
    private readonly IActorRef _supervisor;

    // The shipped o8.conf, as every O8Actors actor system carries it: it defines the logins' mailbox.
    public FlowsSupervisorTests() : base(O8Config.Default)
    {
        _listener = CreateTestProbe();
        _providers = CreateTestProbe();
        _providersFront = Sys.ActorOf(ProviderChecksAccepted.Props(_providers.Ref));
        _supervisor = Sys.ActorOf(FlowsSupervisor.Props(Options, _listener.Ref, _providersFront, new RecordingBrowser()));
    }

    private static TaskCompletionSource<LoginOutcome> NewCompletion() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts a login and returns its FlowActor (the sender of its registration).</summary>
    private IActorRef Start(string flowId, TaskCompletionSource<LoginOutcome> completion)
    {
        _supervisor.Tell(new StartFlow(flowId, "test", AuthorizationRequest.Default, completion));
        _listener.FishForMessage(m => m is RegisterState r && r.LoginId == flowId);
        return _listener.LastSender;
    }

    [Fact]
    public async Task A_caller_waiting_on_a_completion_gets_the_outcome_there_and_not_as_a_message()
    {
        var completion = NewCompletion();
        var flow = Start("f1", completion);

        flow.Tell(new CancelFlow("f1"));

        var outcome = await completion.Task.WaitAsync(Wait);
        Assert.IsType<LoginCancelled>(outcome);
        Assert.Equal("f1", outcome.LoginId);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_flow_that_stops_without_an_outcome_still_gives_its_caller_exactly_one()
    {
        var completion = NewCompletion();
        var flow = Start("f1", completion);

        // The supervisor reports it as an error: expected here, so it is matched instead of printed.
        var outcome = await EventFilter.Error(contains: "stopped without an outcome").ExpectAsync(1, async () =>
        {
            Sys.Stop(flow);
            return Assert.IsType<LoginFailed>(await completion.Task.WaitAsync(Wait));
        });

        Assert.Contains("stopped unexpectedly", outcome.Reason);
        // O8Actors' own failure, not the provider's: not reported as a token-exchange failure.
        Assert.Equal(LoginFailure.Internal, outcome.Failure);
        await AwaitAssertAsync(async () =>
            Assert.Equal(0, (await _supervisor.Ask<FlowsInFlight>(GetFlowsInFlight.Instance, Wait)).Count), Wait);
    }

    /// <summary>
    /// A login cancelled while the provider prepares its authorization (its discovery still running, or its pushed request
    /// queued) takes the preparation back: prepared afterwards, a pushed request (RFC 9126) went out for a login long ended.
    /// </summary>
    [Fact]
    public async Task A_login_that_ends_while_its_authorization_is_prepared_takes_the_preparation_back()
    {
        var completion = NewCompletion();
        var flow = Start("f1", completion);
        _listener.Send(flow, new StateRegistered("f1", new Uri("http://127.0.0.1:41539/")));
        _providers.ExpectMsg<PrepareAuthorization>(Wait);

        flow.Tell(new CancelFlow("f1"));

        Assert.IsType<LoginCancelled>(await completion.Task.WaitAsync(Wait));
        Assert.Equal(new WithdrawExchange("test", "f1"), _providers.ExpectMsg<WithdrawExchange>(Wait));
    }

    [Fact]
    public async Task A_flow_that_throws_is_stopped_not_restarted_and_its_caller_gets_one_failure()
    {
        var completion = NewCompletion();
        var flow = Start("f1", completion);
        Watch(flow);
        var redirectUri = new Uri("http://127.0.0.1:41539/");
        _listener.Send(flow, new StateRegistered("f1", redirectUri));
        _providers.ExpectMsg<PrepareAuthorization>(Wait);
        // A bug stands in here: an answer without the provider's descriptor makes the callback's issuer check throw.
        _providers.Reply(new AuthorizationPrepared("f1", new Uri("https://provider.example/authorize"), null!, redirectUri));

        var browser = CreateTestProbe();
        var outcome = await EventFilter.Error(contains: "stopped without an outcome").ExpectAsync(1, async () =>
        {
            flow.Tell(new AuthorizationCallback("f1", "code", null, null, null), browser);
            return Assert.IsType<LoginFailed>(await completion.Task.WaitAsync(Wait));
        });

        Assert.Equal(LoginFailure.Internal, outcome.Failure);
        Assert.Equal(CallbackPages.LoginGone, browser.ExpectMsg<CallbackResponse>(Wait));
        ExpectTerminated(flow);
        // A restart would have run the login again under a new state: it would register that state with the listener.
        _listener.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, (await _supervisor.Ask<FlowsInFlight>(GetFlowsInFlight.Instance, Wait)).Count);
    }

    [Fact]
    public async Task A_flow_that_ends_normally_is_reported_once_even_though_its_stop_follows()
    {
        var completion = NewCompletion();
        var flow = Start("f1", completion);
        Watch(flow);

        flow.Tell(new CancelFlow("f1"));
        ExpectTerminated(flow);

        Assert.IsType<LoginCancelled>(await completion.Task.WaitAsync(Wait));
        Assert.Equal(0, (await _supervisor.Ask<FlowsInFlight>(GetFlowsInFlight.Instance, Wait)).Count);
    }

    [Fact]
    public void Once_the_listener_has_told_its_redirect_URI_logins_register_without_waiting_and_after_its_loss_they_wait_again()
    {
        var redirectUri = new Uri("https://localhost:41539/");
        _listener.ExpectMsg<GetListenerStatus>(Wait);
        // Before the answer a login waits for its registration's answer.
        _supervisor.Tell(new StartFlow("before", "test", AuthorizationRequest.Default, NewCompletion()));
        Assert.True(_listener.ExpectMsg<RegisterState>(Wait).Acknowledge);

        _listener.Send(_supervisor, new ListenerStatus(true, redirectUri, 1, null));
        _supervisor.Tell(new StartFlow("after", "test", AuthorizationRequest.Default, NewCompletion()));
        Assert.False(_listener.ExpectMsg<RegisterState>(Wait).Acknowledge);
        Assert.Equal(redirectUri, _providers.ExpectMsg<PrepareAuthorization>(Wait).RedirectUri);

        _supervisor.Tell(new ListenerLost("The redirect listener failed."));
        _supervisor.Tell(new StartFlow("lost", "test", AuthorizationRequest.Default, NewCompletion()));
        Assert.True(((RegisterState)_listener.FishForMessage(m => m is RegisterState { LoginId: "lost" }, Wait)).Acknowledge);
    }

    /// <summary>A sign-out's browser step for <paramref name="requester"/>, its end-session URL handed out: it waits for the browser's return.</summary>
    private void SignOutWaitingForTheBrowser(TestProbe requester)
    {
        _supervisor.Tell(new EndProviderSession("test", "sign-out-1", null, TimeSpan.FromMinutes(2)), requester.Ref);
        _listener.FishForMessage(m => m is RegisterState { ForSignOut: true }, Wait);
        _listener.Reply(new StateRegistered("sign-out-1", new Uri("https://localhost:41539/")));
        _providers.FishForMessage(m => m is PrepareEndSession, Wait);
        _providers.Reply(new EndSessionPrepared("sign-out-1", new Uri("https://provider.test/logout"), new Uri("https://localhost:41539/test")));
    }

    /// <summary>
    /// A sign-out waiting for the browser's return when the listener crashes: the return can only hit a closed port, and
    /// the step waited its whole timeout, then reported TimedOut with a reason sending the operator to the provider's
    /// post-logout redirect URIs.
    /// </summary>
    [Fact]
    public async Task A_sign_out_waiting_for_the_browser_when_the_listener_is_lost_fails_at_once_with_the_listeners_reason()
    {
        var login = NewCompletion();
        Start("f1", login);
        var requester = CreateTestProbe();
        SignOutWaitingForTheBrowser(requester);

        _supervisor.Tell(new ListenerLost("The redirect listener failed (IOException) and was stopped; its port is released."));

        var ended = requester.ExpectMsg<ProviderSessionEnded>(Wait);
        Assert.Equal(ProviderSessionOutcome.Failed, ended.Outcome);
        Assert.Contains("The redirect listener failed (IOException)", ended.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("post-logout", ended.Reason, StringComparison.Ordinal);
        // The login in flight is told as before.
        Assert.Equal(LoginFailure.ListenerUnavailable, Assert.IsType<LoginFailed>(await login.Task.WaitAsync(Wait)).Failure);
    }

    /// <summary>
    /// A sign-out waiting for the browser's return when O8Actors stops (a dispose, a host stop): the step ends at once as
    /// failed. Its account's actor waits for it, and a dispose waits for the accounts (a refresh at the token endpoint must
    /// be stored): left waiting for a browser that may never come back, it held the dispose for a minute.
    /// </summary>
    [Fact]
    public void A_sign_out_waiting_for_the_browser_when_the_logins_are_drained_fails_at_once()
    {
        var requester = CreateTestProbe();
        SignOutWaitingForTheBrowser(requester);

        CreateTestProbe().Send(_supervisor, CancelAllFlows.Instance);

        var ended = requester.ExpectMsg<ProviderSessionEnded>(Wait);
        Assert.Equal(ProviderSessionOutcome.Failed, ended.Outcome);
        Assert.Contains("shutting down", ended.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("$reserved")]
    [InlineData("a/b")]
    public async Task A_flow_id_that_cannot_name_an_actor_is_refused_and_the_supervisor_carries_on(string flowId)
    {
        var refused = NewCompletion();
        _supervisor.Tell(new StartFlow(flowId, "test", AuthorizationRequest.Default, refused));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => refused.Task.WaitAsync(Wait));
        Assert.Contains("cannot be a login id", error.Message);
        var next = NewCompletion();
        var flow = Start("fine", next);
        flow.Tell(new CancelFlow("fine"));
        Assert.IsType<LoginCancelled>(await next.Task.WaitAsync(Wait));
    }

    [Fact]
    public void Each_login_runs_on_the_compact_flow_mailbox()
    {
        var flow = Start("f1", NewCompletion());

        var cell = (ActorCell)((ActorRefWithCell)flow).Underlying;
        Assert.IsType<FlowMessageQueue>(cell.Mailbox!.MessageQueue);
    }

    [Fact]
    public async Task Stopping_the_supervisor_completes_every_waiting_caller_as_cancelled()
    {
        var completions = Enumerable.Range(0, 3).Select(_ => NewCompletion()).ToArray();
        for (var i = 0; i < completions.Length; i++) Start($"f{i}", completions[i]);

        Sys.Stop(_supervisor);

        var outcomes = await Task.WhenAll(completions.Select(c => c.Task)).WaitAsync(Wait);
        Assert.All(outcomes, o => Assert.IsType<LoginCancelled>(o));
        Assert.Equal(["f0", "f1", "f2"], outcomes.Select(o => o.LoginId).Order());
    }

    [Fact]
    public async Task A_start_that_finds_the_supervisor_stopped_is_completed_as_cancelled()
    {
        ListeningWatcher.Start(this);
        Watch(_supervisor);
        Sys.Stop(_supervisor);
        ExpectTerminated(_supervisor);

        var completion = NewCompletion();
        _supervisor.Tell(new StartFlow("late", "test", AuthorizationRequest.Default, completion));

        var outcome = await completion.Task.WaitAsync(Wait);
        Assert.Equal(new LoginCancelled("late"), outcome);
    }

    [Fact]
    public async Task Every_CancelAllFlows_requester_is_answered_once_the_logins_have_ended()
    {
        var completion = NewCompletion();
        Start("f1", completion);
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        // Both arrive while the login is still running (the cancellation reaches it through its mailbox after both).
        first.Send(_supervisor, CancelAllFlows.Instance);
        second.Send(_supervisor, CancelAllFlows.Instance);

        // Said to be the drain's (its caller did not cancel: on a cluster, another node's caller is told its node went away).
        var cancelled = Assert.IsType<LoginCancelled>(await completion.Task.WaitAsync(Wait));
        Assert.True(cancelled.ByShutdown);
        // How it was delivered is no part of which outcome it is: an app comparing outcomes sees a cancellation of f1.
        Assert.Equal(new LoginCancelled("f1"), cancelled);
        Assert.Equal(new LoginCancelled("f1").GetHashCode(), cancelled.GetHashCode());
        Assert.Equal(0, first.ExpectMsg<FlowsInFlight>(Wait).Count);
        Assert.Equal(0, second.ExpectMsg<FlowsInFlight>(Wait).Count);
        var late = NewCompletion();
        _supervisor.Tell(new StartFlow("after-the-drain", "test", AuthorizationRequest.Default, late));
        Assert.True(Assert.IsType<LoginCancelled>(await late.Task.WaitAsync(Wait)).ByShutdown);
    }

    [Fact]
    public async Task A_login_its_caller_cancels_is_not_said_to_be_cancelled_by_a_shutdown()
    {
        var completion = NewCompletion();
        Start("f1", completion);

        _supervisor.Tell(new CancelFlow("f1"));

        Assert.False(Assert.IsType<LoginCancelled>(await completion.Task.WaitAsync(Wait)).ByShutdown);
    }

    [Fact]
    public async Task A_drain_waits_for_a_login_cancelled_mid_exchange_until_it_has_revoked_the_tokens_its_code_brought()
    {
        var completion = NewCompletion();
        var flow = Start("f1", completion);
        _listener.Reply(new StateRegistered("f1", new Uri("https://localhost:41539/")));
        _providers.ExpectMsg<PrepareAuthorization>(Wait);
        _providers.Reply(new AuthorizationPrepared("f1", new Uri("https://provider.test/authorize"), ProviderDescriptor.Static,
            new Uri("https://localhost:41539/test")));
        var tab = CreateTestProbe();
        AwaitAssert(() =>
        {
            flow.Tell(new AuthorizationCallback("f1", "the-code", null, null, null, "/test"), tab.Ref);
            _providers.ExpectMsg<ExchangeCode>(TimeSpan.FromMilliseconds(200));
        }, Wait);

        // The host stops: the caller hears at once, the drain only once the spent code's tokens are revoked.
        var stopping = CreateTestProbe();
        stopping.Send(_supervisor, CancelAllFlows.Instance);
        Assert.IsType<LoginCancelled>(await completion.Task.WaitAsync(Wait));
        _providers.ExpectMsg<WithdrawExchange>(Wait);
        _providers.Send(flow, new CodeExchanged("f1", new TokenSet("unclaimed-access", "Bearer")));
        var revoke = _providers.ExpectMsg<RevokeTokens>(Wait);
        stopping.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        _providers.Reply(new RevocationDone(revoke.RequestId, RevocationOutcome.Revoked));
        Assert.Equal(0, stopping.ExpectMsg<FlowsInFlight>(Wait).Count);
    }

    /// <summary>
    /// A device login whose deadline passes while a poll is at the provider stays for the poll's answer and revokes the
    /// tokens the user approved at the last moment; a drain (shutdown) waits for that as it waits for a cancelled exchange.
    /// </summary>
    [Fact]
    public async Task A_drain_waits_for_a_device_login_timed_out_with_a_poll_at_the_provider_until_it_has_revoked_its_tokens()
    {
        var completion = NewCompletion();
        var request = new AuthorizationRequest(["read"]) { Method = LoginMethod.Device };
        _supervisor.Tell(new StartFlow("d1", "test", request, completion));
        _providers.ExpectMsg<RequestDeviceCode>(Wait);
        // A code that lives 3 s, polled every second: the first poll is held at the provider past the deadline.
        _providers.Reply(new DeviceCodeIssued("d1", new DeviceAuthorization("device-code", "BCDF-GHJK", new Uri("https://provider.test/device"),
            null, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1))));
        var poll = _providers.ExpectMsg<PollDeviceToken>(Wait);
        var flow = _providers.LastSender;
        var timedOut = Assert.IsType<LoginTimedOut>(await completion.Task.WaitAsync(Wait));
        Assert.Equal("d1", timedOut.LoginId);
        _providers.ExpectMsg<WithdrawExchange>(Wait); // a poll still queued at the provider would be dropped unsent

        var stopping = CreateTestProbe();
        stopping.Send(_supervisor, CancelAllFlows.Instance);
        stopping.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        _providers.Send(flow, new DeviceTokenPolled(poll.LoginId, DeviceTokenPoll.Issued(new TokenSet("unclaimed-access", "Bearer"))));
        var revoke = _providers.ExpectMsg<RevokeTokens>(Wait);
        stopping.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        _providers.Reply(new RevocationDone(revoke.RequestId, RevocationOutcome.Revoked));
        Assert.Equal(0, stopping.ExpectMsg<FlowsInFlight>(Wait).Count);
    }

    [Fact]
    public async Task A_duplicate_flow_id_faults_the_second_completion_and_leaves_the_first_running()
    {
        var first = NewCompletion();
        var flow = Start("same", first);
        var second = NewCompletion();

        _supervisor.Tell(new StartFlow("same", "test", AuthorizationRequest.Default, second));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => second.Task.WaitAsync(Wait));
        Assert.Contains("already running", error.Message);
        Assert.False(first.Task.IsCompleted);
        flow.Tell(new CancelFlow("same"));
        Assert.IsType<LoginCancelled>(await first.Task.WaitAsync(Wait));
    }
}
