using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Logout;
using O8Actors.Providers;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A provider's logout-token guard entity with the back-channel logouts of several nodes, on virtual time: a node that
/// accepted a token and stopped before it completed or released it holds the token only for a lease, and the provider's
/// retry after it carries the logout out. Each post is a real <see cref="BackChannelLogoutCall"/>, its provider registry
/// and accounts' side probes: guard messages go to the entity, as the node's gateway sends them to the region, and
/// alice's account answers every sign-out as an account does (revoked once, nothing left to revoke after).
/// </summary>
public sealed class LogoutTokenGuardEntityTests() : Akka.TestKit.Xunit.TestKit(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""")
{
    private const string Provider = "sandbox";
    // The waits the logout of a node with the default settings is given: its sign-outs' (two 80 s renewal timeouts) and lists'.
    private static readonly TimeSpan SignOutWait = TimeSpan.FromSeconds(160);
    private static readonly TimeSpan ListWait = TimeSpan.FromSeconds(30);
    private static readonly OAuthAccount Alice = new(Provider, "alice");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;
    private readonly List<RevocationOutcome> _signOuts = [];
    private IActorRef _guard = ActorRefs.Nobody;
    private LogoutToken _token = null!;

    /// <summary>The guard entity, and the token (issued now on the virtual clock) every post carries.</summary>
    private void Start()
    {
        var handOvers = CreateTestProbe();
        _guard = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, handOvers.Ref));
        handOvers.ExpectMsg<FindLogoutTokenHandOver>(TimeSpan.FromSeconds(10), cancellationToken: Ct);
        handOvers.Reply(new LogoutTokenHandOverFound([]));
        _token = new LogoutToken("https://issuer.test", "alice", null, "jti-1", Clock.Now, Clock.Now.AddMinutes(2));
    }

    /// <summary>One post of the token, on some node; <paramref name="onSignedOut"/> is the app's part.</summary>
    private Task<BackChannelLogoutResult> Post(Func<BackChannelLogoutResult, CancellationToken, Task>? onSignedOut = null)
    {
        var providers = CreateTestProbe();
        providers.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is ValidateLogoutToken validate) sender.Tell(new LogoutTokenAccepted(validate.RequestId, _token));
            return AutoPilot.KeepRunning;
        }));
        var accounts = CreateTestProbe();
        accounts.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            switch (message)
            {
                case AcceptLogoutToken or RenewLogoutToken or ForgetLogoutToken or CompleteLogoutToken:
                    _guard.Tell(message, sender);
                    break;
                case SignOut signOut:
                    // Signing out an account already signed out does no harm: it holds no tokens, so nothing is revoked.
                    RevocationOutcome outcome;
                    lock (_signOuts)
                    {
                        outcome = _signOuts.Count == 0 ? RevocationOutcome.Revoked : RevocationOutcome.NothingToRevoke;
                        _signOuts.Add(outcome);
                    }
                    sender.Tell(new SignOutResult(signOut.Account, outcome));
                    break;
            }
            return AutoPilot.KeepRunning;
        }));
        return BackChannelLogoutCall.RunAsync(providers.Ref, accounts.Ref, TimeSpan.FromSeconds(10), SignOutWait, ListWait, Provider, "the-logout-token",
            Ct, onSignedOut);
    }

    private static async Task<BackChannelLogoutFailure> RefusedAsync(Task<BackChannelLogoutResult> post) =>
        (await Assert.ThrowsAsync<BackChannelLogoutException>(() => post.WaitAsync(TimeSpan.FromSeconds(10), Ct))).Failure;

    /// <summary>
    /// Node A accepted the token and stopped before it signed anyone out: the guard was told "accept" and never
    /// "complete" nor "forget". The provider's retries used to get 503 until the token expired from the guard (over an
    /// hour), then "replayed", and alice stayed signed in; now the retry after A's lease carries the logout out.
    /// </summary>
    [Fact]
    public async Task The_providers_retry_after_the_lease_of_a_node_that_stopped_mid_logout_signs_the_user_out()
    {
        Start();
        var lease = BackChannelLogoutCall.Lease(SignOutWait, ListWait);
        _guard.Tell(new AcceptLogoutToken(Provider, _token.JwtId, LogoutTokenReplayGuard.KeepUntil(_token), "node-a", lease));
        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(cancellationToken: Ct).Check);

        // While A might still be at it, a retry is sent back to post again later.
        Clock.Advance(lease - TimeSpan.FromSeconds(1));
        Assert.Equal(BackChannelLogoutFailure.InProgress, await RefusedAsync(Post()));
        Assert.Empty(_signOuts);

        Clock.Advance(TimeSpan.FromSeconds(1));
        var result = await Post().WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal([(Alice, RevocationOutcome.Revoked)], result.SignedOut.Select(r => (r.Account, r.Revocation)));

        // Carried out: the token is spent now.
        Assert.Equal(BackChannelLogoutFailure.Replayed, await RefusedAsync(Post()));
    }

    /// <summary>
    /// Node A was slow, not gone: its app part ran past its lease, and the provider's retry on node B took the token over
    /// and signs alice out again (nothing left to revoke). A then completes while B still holds the token: the token is
    /// spent (A did sign alice out and tell the app), a further post is a replay, and B's own completion, later, breaks
    /// nothing: it is answered, and B returns as carried out.
    /// </summary>
    [Fact]
    public async Task A_logout_that_completes_after_its_token_was_taken_over_spends_it_and_the_takers_completion_still_succeeds()
    {
        Start();
        var lease = BackChannelLogoutCall.Lease(SignOutWait, ListWait);
        var (aInApp, aDone) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource());
        var (bInApp, bDone) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource());
        var onA = Post((_, _) =>
        {
            aInApp.SetResult();
            return aDone.Task;
        });
        await aInApp.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Clock.Advance(lease);
        var onB = Post((_, _) =>
        {
            bInApp.SetResult();
            return bDone.Task;
        });
        await bInApp.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal([RevocationOutcome.Revoked, RevocationOutcome.NothingToRevoke], _signOuts);

        aDone.SetResult();
        var a = await onA.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal([Alice], a.SignedOut.Select(r => r.Account));
        Assert.Equal(BackChannelLogoutFailure.Replayed, await RefusedAsync(Post()));

        bDone.SetResult();
        var b = await onB.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Empty(b.SignedOut);
        Clock.Advance(lease + lease);
        Assert.Equal(BackChannelLogoutFailure.Replayed, await RefusedAsync(Post()));
    }
}
