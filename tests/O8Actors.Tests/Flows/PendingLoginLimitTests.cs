using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;

namespace O8Actors.Tests.Flows;

/// <summary>
/// Bounded work (issue 11): the supervisor refuses a login past <c>o8.login.max-pending</c>, or past
/// <c>o8.login.max-pending-per-partition</c> for its partition, at once and without creating anything, and admits again
/// once a login has ended. Plays the flood of anonymous <c>POST /connect</c> that was all accepted and held.
/// </summary>
public sealed class PendingLoginLimitTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    // "At once": the refusal needs no timer, no provider and no listener; this only bounds the test's wait.
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(3);

    private readonly TestProbe _listener;
    private readonly IActorRef _supervisor;

    public PendingLoginLimitTests() : base(O8Config.Default)
    {
        _listener = CreateTestProbe();
        var options = new LoginOptions { Timeout = TimeSpan.FromMinutes(5), MaxPending = 3, MaxPendingPerPartition = 2 };
        _supervisor = Sys.ActorOf(FlowsSupervisor.Props(options, _listener.Ref, Sys.ActorOf(ProviderChecksAccepted.Props(CreateTestProbe().Ref)),
            new RecordingBrowser()));
    }

    private static AuthorizationRequest For(string? partition) => AuthorizationRequest.Default with { Partition = partition };

    /// <summary>Starts a login and returns its outcome; the login's actor is the sender of its registration, when it gets that far.</summary>
    private Task<LoginOutcome> Start(string flowId, string? partition = null)
    {
        var completion = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _supervisor.Tell(new StartFlow(flowId, "test", For(partition), completion));
        return completion.Task;
    }

    private IActorRef Admitted(string flowId)
    {
        _listener.FishForMessage(m => m is RegisterState r && r.LoginId == flowId, Wait);
        return _listener.LastSender;
    }

    private async Task EndLogin(IActorRef flow, Task<LoginOutcome> outcome)
    {
        flow.Tell(new CancelFlow(flow.Path.Name));
        Assert.IsType<LoginCancelled>(await outcome.WaitAsync(Wait));
    }

    private async Task<int> InFlight() => (await _supervisor.Ask<FlowsInFlight>(GetFlowsInFlight.Instance, Wait)).Count;

    [Fact]
    public async Task The_login_past_max_pending_is_refused_at_once_naming_the_limit_and_one_is_admitted_again_after_a_login_ends()
    {
        var first = Start("a1");
        var flow1 = Admitted("a1");
        _ = Start("a2");
        Admitted("a2");
        _ = Start("a3");
        Admitted("a3");

        var refused = Assert.IsType<LoginFailed>(await Start("a4").WaitAsync(AtOnce));

        Assert.Equal(LoginFailure.TooManyPendingLogins, refused.Failure);
        Assert.Equal("a4", refused.LoginId);
        Assert.Contains("o8.login.max-pending (3)", refused.Reason);
        // Refused before anything was made: no actor, no state registered at the listener, not counted.
        Assert.True((await Sys.ActorSelection(_supervisor.Path / "a4").ResolveOne(Wait).ContinueWith(t => t.IsFaulted)));
        Assert.Equal(3, await InFlight());

        await EndLogin(flow1, first);
        _ = Start("a5");
        Assert.Equal("a5", ((RegisterState)_listener.FishForMessage(m => m is RegisterState, Wait)).LoginId);
        Assert.Equal(3, await InFlight());
    }

    [Fact]
    public async Task The_partition_limit_refuses_only_that_partition_and_admits_it_again_after_one_of_its_logins_ends()
    {
        var alice1 = Start("alice1", "alice");
        var alice1Flow = Admitted("alice1");
        _ = Start("alice2", "alice");
        Admitted("alice2");

        var refused = Assert.IsType<LoginFailed>(await Start("alice3", "alice").WaitAsync(AtOnce));
        Assert.Equal(LoginFailure.TooManyPendingLoginsInPartition, refused.Failure);
        Assert.Contains("o8.login.max-pending-per-partition (2)", refused.Reason);
        // The partition is the app's value (maybe a user id): it is not repeated in a reason that reaches logs.
        Assert.DoesNotContain("alice", refused.Reason);

        // Another partition is not affected.
        _ = Start("bob1", "bob");
        Admitted("bob1");
        Assert.Equal(3, await InFlight());

        await EndLogin(alice1Flow, alice1);
        _ = Start("alice4", "alice");
        Admitted("alice4");
    }

    [Fact]
    public async Task Logins_without_a_partition_are_bounded_only_by_max_pending()
    {
        var outcomes = new[] { Start("n1"), Start("n2"), Start("n3") };
        // Three logins register in whatever order their actors run.
        var registered = Enumerable.Range(0, 3).Select(_ => ((RegisterState)_listener.FishForMessage(m => m is RegisterState, Wait)).LoginId);
        Assert.Equal(["n1", "n2", "n3"], registered.Order());

        Assert.All(outcomes, o => Assert.False(o.IsCompleted));
        var refused = Assert.IsType<LoginFailed>(await Start("n4").WaitAsync(AtOnce));
        Assert.Equal(LoginFailure.TooManyPendingLogins, refused.Failure);
    }

    /// <summary>Asks the supervisor for a sign-out's browser step of <paramref name="account"/>; returns its step actor once it registered its state.</summary>
    private IActorRef SignOutStep(string requestId, OAuthAccount account, TestProbe requester)
    {
        RequestSignOut(requestId, account, requester);
        _listener.FishForMessage(m => m is RegisterState { ForSignOut: true } r && r.LoginId == requestId, Wait);
        return _listener.LastSender;
    }

    private void RequestSignOut(string requestId, OAuthAccount account, TestProbe requester) =>
        _supervisor.Tell(new EndProviderSession("test", requestId, null, TimeSpan.FromMinutes(5)) { Account = account }, requester.Ref);

    /// <summary>
    /// A sign-out's browser step holds a state at the listener and two actors for its whole timeout, as a login does: a
    /// server's logout endpoint replayed in a loop held one per call with no bound. Steps are bounded by max-pending on
    /// their own (past it refused at once, the caller's result says why), and never take a login's slot.
    /// </summary>
    [Fact]
    public async Task Sign_outs_browser_steps_are_bounded_by_max_pending_apart_from_the_logins()
    {
        for (var i = 1; i <= 3; i++) SignOutStep($"sign-out-{i}", new OAuthAccount("test", $"user-{i}"), CreateTestProbe());

        var fourth = CreateTestProbe();
        RequestSignOut("sign-out-4", new OAuthAccount("test", "user-4"), fourth);
        var refused = fourth.ExpectMsg<ProviderSessionEnded>(AtOnce);
        Assert.Equal(("sign-out-4", ProviderSessionOutcome.Failed), (refused.RequestId, refused.Outcome));
        Assert.Contains("o8.login.max-pending (3)", refused.Reason);
        // Full, a waiting account's own sign-out still takes over from its step: it adds none.
        SignOutStep("sign-out-1-again", new OAuthAccount("test", "user-1"), CreateTestProbe());

        // Three sign-outs wait, and still three logins are admitted: sign-outs never keep anyone from signing in; the
        // logins' own limit holds as before.
        foreach (var id in new[] { "a1", "a2", "a3" })
        {
            _ = Start(id);
            Admitted(id);
        }
        Assert.Equal(3, await InFlight());
        Assert.Equal(LoginFailure.TooManyPendingLogins, Assert.IsType<LoginFailed>(await Start("a4").WaitAsync(AtOnce)).Failure);
    }

    /// <summary>
    /// The replayed logout endpoint signs the same account out again and again: each new step takes over from the one
    /// still waiting (which ends, answering its caller), so one account holds one step, whatever the number of calls.
    /// </summary>
    [Fact]
    public void A_newer_sign_out_of_an_account_takes_over_from_the_step_still_waiting_and_frees_its_place()
    {
        var alice = new OAuthAccount("test", "alice");
        var previous = CreateTestProbe();
        SignOutStep("sign-out-1", alice, previous);

        for (var i = 2; i <= 6; i++)
        {
            var replayed = CreateTestProbe();
            RequestSignOut($"sign-out-{i}", alice, replayed);
            // The step before it ends at once: its caller hears why, and its state leaves the listener.
            var superseded = previous.ExpectMsg<ProviderSessionEnded>(Wait);
            Assert.Equal(($"sign-out-{i - 1}", ProviderSessionOutcome.Failed), (superseded.RequestId, superseded.Outcome));
            Assert.Contains("newer sign-out of the same account", superseded.Reason);
            // At the listener, in either order (two actors send them): the new step's state, and the replaced one's withdrawal.
            var atListener = _listener.ReceiveN(2, Wait);
            Assert.Contains(atListener, m => m is RegisterState { ForSignOut: true } r && r.LoginId == $"sign-out-{i}");
            Assert.Contains(atListener, m => m is UnregisterState u && u.LoginId == $"sign-out-{i - 1}");
            previous = replayed;
        }

        // Five replays, and another account's sign-out still finds room under max-pending (3) once the replaced steps
        // have stopped (the supervisor hears of each stop on its own: a refused attempt is tried again until it has).
        var bob = "";
        AwaitAssert(() =>
        {
            bob = $"sign-out-bob-{Guid.NewGuid():N}";
            var requester = CreateTestProbe();
            RequestSignOut(bob, new OAuthAccount("test", "bob"), requester);
            Assert.Null(requester.ReceiveOne(TimeSpan.FromMilliseconds(200))); // not refused
        }, Wait);
        // Admitted: its state is registered, and it waits for its browser.
        _listener.FishForMessage(m => m is RegisterState { ForSignOut: true } r && r.LoginId == bob, Wait);
    }
}
