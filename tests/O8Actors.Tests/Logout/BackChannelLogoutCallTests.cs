using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Logout;
using O8Actors.Providers;

namespace O8Actors.Tests.Logout;

/// <summary>
/// One back-channel logout's steps with probes as the provider registry and the accounts' side: nobody is signed out
/// before the token's <c>jti</c> is accepted, a replay stops there, a replay check that does not answer fails as
/// <see cref="BackChannelLogoutFailure.Failed"/> (the endpoint's 500, so the provider posts it again) rather than a raw
/// timeout, and a logout that fails after its token was accepted leaves the token unspent.
/// </summary>
public sealed class BackChannelLogoutCallTests : TestKit
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);
    private static readonly LogoutToken Token = new("https://issuer.test", "alice", null, "jti-1",
        new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero), null);

    private readonly TestProbe _providers;
    private readonly TestProbe _accounts;

    public BackChannelLogoutCallTests()
    {
        _providers = CreateTestProbe();
        _accounts = CreateTestProbe();
    }

    /// <summary>
    /// Starts the logout; the provider has validated the token once this returns, and its jti is being checked. The check
    /// waits <paramref name="checkTimeout"/> for its answer (default 5 s: a test that answers it must not race a short
    /// timeout on a busy machine). <paramref name="afterBatch"/> runs once each batch of a session's accounts has answered.
    /// </summary>
    private Task<BackChannelLogoutResult> StartValidated(out AcceptLogoutToken check, TimeSpan? checkTimeout = null, LogoutToken? token = null,
        LogoutCarryOver? carryOver = null, CancellationToken cancellationToken = default, Func<Task>? afterBatch = null,
        Func<BackChannelLogoutResult, CancellationToken, Task>? onSignedOut = null)
    {
        var running = BackChannelLogoutCall.RunAsync(_providers.Ref, _accounts.Ref, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5),
            checkTimeout ?? TimeSpan.FromSeconds(5), "sandbox", "the-logout-token", cancellationToken, onSignedOut, carryOver, afterBatch, log: Sys.Log);
        var validate = _providers.ExpectMsg<ValidateLogoutToken>();
        _providers.Reply(new LogoutTokenAccepted(validate.RequestId, token ?? Token));
        check = _accounts.ExpectMsg<AcceptLogoutToken>();
        return running;
    }

    /// <summary>The guard records the logout as carried out, which the logout waits for before it returns.</summary>
    private void AnswerCompletion()
    {
        var complete = _accounts.ExpectMsg<CompleteLogoutToken>();
        _accounts.Reply(new LogoutTokenCompleted(complete.JwtId));
    }

    [Fact]
    public async Task The_jti_is_accepted_before_anyone_is_signed_out_and_a_replay_signs_nobody_out()
    {
        var replayed = StartValidated(out var check);
        Assert.Equal(("sandbox", "jti-1", LogoutTokenReplayGuard.KeepUntil(Token)), (check.Provider, check.JwtId, check.KeepUntil));
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Replayed));

        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => replayed);
        Assert.Equal(BackChannelLogoutFailure.Replayed, error.Failure);
        _accounts.ExpectNoMsg(Short); // no SignOut
    }

    [Fact]
    public async Task A_replay_check_that_does_not_answer_fails_the_logout_and_signs_nobody_out()
    {
        var unanswered = StartValidated(out var check, checkTimeout: Short);

        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => unanswered);
        Assert.Equal(BackChannelLogoutFailure.Failed, error.Failure);
        Assert.Contains("already accepted", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("the-logout-token", error.ToString(), StringComparison.Ordinal);
        // The guard may take the jti after the wait: it is withdrawn, so the provider's retry is not refused as a replay.
        Assert.Equal(new ForgetLogoutToken("sandbox", "jti-1", check.Attempt), _accounts.ExpectMsg<ForgetLogoutToken>());
        _accounts.ExpectNoMsg(Short); // no SignOut
    }

    [Fact]
    public async Task A_logout_that_fails_after_its_token_was_accepted_leaves_the_token_unspent()
    {
        var failing = StartValidated(out var check);
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        _accounts.ExpectMsg<SignOut>();
        _accounts.Reply(new Akka.Actor.Status.Failure(new InvalidOperationException("the store is down")));

        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        // The provider may post it again and have it carried out.
        Assert.Equal(new ForgetLogoutToken("sandbox", "jti-1", check.Attempt), _accounts.ExpectMsg<ForgetLogoutToken>());
    }

    /// <summary>
    /// The app's own part (OnSignedOut: its cookie sessions of the token's sid or sub) ran only once O8Actors' own part
    /// had succeeded: with a store down, or the accounts of a sid-only token not listed, it never ran, and a provider that
    /// posts a token once (Keycloak, Duende) left the app's sessions open. It runs now with what was signed out, and the
    /// logout still fails (the endpoint's 500), its token unspent.
    /// </summary>
    [Theory]
    [InlineData(false)] // an account's sign-out failed
    [InlineData(true)]  // the accounts of a sid-only token could not be listed
    public async Task The_apps_part_runs_even_when_O8Actors_own_part_failed_and_the_logout_still_fails(bool listFails)
    {
        var token = listFails ? Token with { Subject = null, SessionId = "sid-1" } : Token with { SessionId = "sid-1" };
        var told = new List<BackChannelLogoutResult>();
        var failing = StartValidated(out var check, token: token, onSignedOut: (result, _) =>
        {
            told.Add(result);
            return Task.CompletedTask;
        });
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        if (listFails)
        {
            _accounts.ExpectMsg<ListAccounts>();
            _accounts.Reply(new Akka.Actor.Status.Failure(new AuthorizationFailedException(LoginFailure.Internal, "the store could not list its accounts")));
        }
        else
        {
            _accounts.ExpectMsg<SignOut>();
            _accounts.Reply(new Akka.Actor.Status.Failure(new AuthorizationFailedException(LoginFailure.Internal, "the store is down")));
        }

        await Assert.ThrowsAsync<AuthorizationFailedException>(() => failing);
        var result = Assert.Single(told);
        Assert.Equal("sid-1", result.Token.SessionId);
        Assert.Empty(result.SignedOut);
        // The app's part ran under a lease of its own, then the token was left unspent for the provider's retry.
        Assert.Equal(check.Attempt, _accounts.ExpectMsg<RenewLogoutToken>().Attempt);
        Assert.Equal(new ForgetLogoutToken("sandbox", "jti-1", check.Attempt), _accounts.ExpectMsg<ForgetLogoutToken>());
    }

    /// <summary>When O8Actors' part and then the app's part both fail, the failure carries both: the log showed only the app's.</summary>
    [Fact]
    public async Task When_both_parts_fail_the_logouts_failure_carries_both()
    {
        var failing = StartValidated(out _, onSignedOut: (_, _) => throw new InvalidOperationException("the app's session store is down"));
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        _accounts.ExpectMsg<SignOut>();
        _accounts.Reply(new Akka.Actor.Status.Failure(new AuthorizationFailedException(LoginFailure.Internal, "the token store is down")));

        var both = await Assert.ThrowsAsync<AggregateException>(() => failing);

        Assert.Collection(both.InnerExceptions, e => Assert.IsType<AuthorizationFailedException>(e), e => Assert.IsType<InvalidOperationException>(e));
        _accounts.ExpectMsg<RenewLogoutToken>();
        _accounts.ExpectMsg<ForgetLogoutToken>();
    }

    [Fact]
    public async Task A_token_valid_to_the_end_of_time_is_checked_for_replay_until_then_not_failed_with_an_overflow()
    {
        // A strategy may hand back any expiry; the replay guard's date is held at the end of the range.
        var running = StartValidated(out var check, token: Token with { ExpiresAt = DateTimeOffset.MaxValue });
        Assert.Equal(DateTimeOffset.MaxValue, check.KeepUntil);
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Replayed));

        Assert.Equal(BackChannelLogoutFailure.Replayed, (await Assert.ThrowsAsync<BackChannelLogoutException>(() => running)).Failure);
    }

    [Fact]
    public async Task When_one_account_of_the_session_fails_the_retry_reports_the_accounts_the_failed_attempt_signed_out()
    {
        // A token naming a session only: every account of the provider is asked, and alice's is of that session.
        // Issued now: what a failed attempt signed out is kept only while the token could still be posted again.
        var sessionOnly = Token with { Subject = null, SessionId = "sid-1", IssuedAt = DateTimeOffset.UtcNow };
        var carryOver = new LogoutCarryOver();
        var (alice, bob) = (new OAuthAccount("sandbox", "alice"), new OAuthAccount("sandbox", "bob"));

        var first = StartValidated(out _, token: sessionOnly, carryOver: carryOver);
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        _accounts.ExpectMsg<ListAccounts>();
        _accounts.Reply(new AccountList([alice, bob]));
        foreach (var _ in new[] { alice, bob })
        {
            var signOut = _accounts.ExpectMsg<SignOut>();
            _accounts.Reply(signOut.Account == alice
                ? new SignOutResult(alice, RevocationOutcome.Revoked)
                : new Akka.Actor.Status.Failure(new AuthorizationFailedException(LoginFailure.Internal, "bob's store could not remove his tokens")));
        }
        await Assert.ThrowsAsync<AuthorizationFailedException>(() => first);
        _accounts.ExpectMsg<ForgetLogoutToken>();

        // The provider posts the token again; alice holds no tokens now, bob's store works again.
        var retry = StartValidated(out _, token: sessionOnly, carryOver: carryOver);
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        _accounts.ExpectMsg<ListAccounts>();
        _accounts.Reply(new AccountList([bob]));
        _accounts.ExpectMsg<SignOut>();
        _accounts.Reply(new SignOutResult(bob, RevocationOutcome.Revoked));

        AnswerCompletion();
        var result = await retry.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([alice, bob], result.SignedOut.Select(r => r.Account).OrderBy(a => a.Id, StringComparer.Ordinal));
    }

    /// <summary>
    /// A token naming a session only, on a server with more accounts than one batch asks at once: the provider's request
    /// goes away once the first batch has answered. The logout used to stop there and leave the later batch to a retry,
    /// which Keycloak and Duende never make: those accounts stayed signed in and the app was never told. Its caller stops
    /// waiting now, and the logout goes on: the later batch is signed out, the app's part hears of every account, and the
    /// token is spent. The cancellation comes from the logout's own hook after the first batch, so it always lands between
    /// the two batches.
    /// </summary>
    [Fact]
    public async Task A_session_logout_whose_request_goes_away_between_batches_still_signs_out_every_account_and_tells_the_app()
    {
        var sessionOnly = Token with { Subject = null, SessionId = "sid-1", IssuedAt = DateTimeOffset.UtcNow };
        var accounts = Enumerable.Range(0, 33).Select(i => new OAuthAccount("sandbox", $"user-{i:00}")).ToList();
        using var request = new CancellationTokenSource();
        var batchesAnswered = 0;
        Task AfterBatch() => Interlocked.Increment(ref batchesAnswered) == 1 ? request.CancelAsync() : Task.CompletedTask;
        var told = new TaskCompletionSource<(BackChannelLogoutResult Result, CancellationToken Token)>(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = StartValidated(out _, token: sessionOnly, cancellationToken: request.Token, afterBatch: AfterBatch,
            onSignedOut: (result, ct) =>
            {
                told.SetResult((result, ct));
                return Task.CompletedTask;
            });
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        _accounts.ExpectMsg<ListAccounts>();
        _accounts.Reply(new AccountList(accounts));
        for (var i = 0; i < 32; i++)
        {
            var signOut = _accounts.ExpectMsg<SignOut>();
            _accounts.Reply(new SignOutResult(signOut.Account, RevocationOutcome.Revoked));
        }

        // The caller stops waiting; the logout does not.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(TimeSpan.FromSeconds(5)));
        _accounts.ExpectMsg<RenewLogoutToken>();
        var last = _accounts.ExpectMsg<SignOut>();
        Assert.Equal(accounts[32], last.Account);
        _accounts.Reply(new SignOutResult(last.Account, RevocationOutcome.Revoked));

        var (result, appToken) = await told.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(accounts, result.SignedOut.Select(r => r.Account).OrderBy(a => a.Id, StringComparer.Ordinal));
        Assert.False(appToken.IsCancellationRequested);
        _accounts.ExpectMsg<RenewLogoutToken>(); // the app's part's own lease
        // Spent, not withdrawn: a later post of the token is a replay.
        Assert.Equal(new CompleteLogoutToken("sandbox", "jti-1"), _accounts.ExpectMsg<CompleteLogoutToken>());
        _accounts.Reply(new LogoutTokenCompleted("jti-1"));
        _accounts.ExpectNoMsg(Short);
    }

    /// <summary>
    /// The attempt holds its token for a lease that covers the list of accounts, one batch of sign-outs and the completion;
    /// before each later batch it renews the lease, so a session with many accounts is not taken over by the provider's
    /// retry while its node is still signing them out.
    /// </summary>
    [Fact]
    public async Task A_session_logout_renews_its_hold_on_the_token_before_each_later_batch()
    {
        var sessionOnly = Token with { Subject = null, SessionId = "sid-1", IssuedAt = DateTimeOffset.UtcNow };
        var accounts = Enumerable.Range(0, 33).Select(i => new OAuthAccount("sandbox", $"user-{i:00}")).ToList();

        var running = StartValidated(out var check, token: sessionOnly);
        Assert.Equal(BackChannelLogoutCall.Lease(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)), check.Lease);
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        _accounts.ExpectMsg<ListAccounts>();
        _accounts.Reply(new AccountList(accounts));
        for (var i = 0; i < 32; i++)
        {
            var signOut = _accounts.ExpectMsg<SignOut>();
            _accounts.Reply(new SignOutResult(signOut.Account, RevocationOutcome.Revoked));
        }

        Assert.Equal(new RenewLogoutToken("sandbox", "jti-1", check.Attempt, check.Lease), _accounts.ExpectMsg<RenewLogoutToken>());
        var last = _accounts.ExpectMsg<SignOut>();
        _accounts.Reply(new SignOutResult(last.Account, RevocationOutcome.Revoked));
        AnswerCompletion();
        Assert.Equal(33, (await running.WaitAsync(TimeSpan.FromSeconds(5))).SignedOut.Count);
    }

    /// <summary>
    /// The provider's request goes away while alice's account is still signing out: the caller stops waiting, and the
    /// logout waits for her sign-out all the same, then spends the token. Before, the attempt failed there and withdrew
    /// the token, and without a retry from the provider the app never heard that she was signed out.
    /// </summary>
    [Fact]
    public async Task A_sign_out_still_under_way_when_the_request_went_away_is_waited_for_and_the_token_spent()
    {
        var token = Token with { IssuedAt = DateTimeOffset.UtcNow };
        var alice = new OAuthAccount("sandbox", "alice");
        using var request = new CancellationTokenSource();
        var told = new TaskCompletionSource<BackChannelLogoutResult>(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = StartValidated(out _, token: token, cancellationToken: request.Token, onSignedOut: (result, _) =>
        {
            told.SetResult(result);
            return Task.CompletedTask;
        });
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        _accounts.ExpectMsg<SignOut>();
        await request.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(TimeSpan.FromSeconds(5)));

        _accounts.Reply(new SignOutResult(alice, RevocationOutcome.Revoked));
        var signedOut = Assert.Single((await told.Task.WaitAsync(TimeSpan.FromSeconds(5))).SignedOut);
        Assert.Equal((alice, RevocationOutcome.Revoked), (signedOut.Account, signedOut.Revocation));
        _accounts.ExpectMsg<RenewLogoutToken>();
        _accounts.ExpectMsg<CompleteLogoutToken>();
        _accounts.Reply(new LogoutTokenCompleted("jti-1"));
        _accounts.ExpectNoMsg(Short); // never withdrawn (ForgetLogoutToken)
    }

    /// <summary>
    /// A logout carried on after its caller stopped waiting has nobody to tell how it ended (the endpoint answered
    /// nobody): its failure goes to the log as a Warning, and its token is left unspent for a retry.
    /// </summary>
    [Fact]
    public async Task A_logout_that_fails_after_its_caller_stopped_waiting_says_so_in_the_log()
    {
        using var request = new CancellationTokenSource();
        var first = StartValidated(out var check, token: Token with { IssuedAt = DateTimeOffset.UtcNow }, cancellationToken: request.Token);
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        _accounts.ExpectMsg<SignOut>();
        var signOut = _accounts.LastSender;
        await request.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(TimeSpan.FromSeconds(5)));

        await EventFilter.Warning(contains: "failed after its caller stopped waiting (InvalidOperationException)").ExpectOneAsync(() =>
        {
            signOut.Tell(new Akka.Actor.Status.Failure(new InvalidOperationException("The token store failed.")), _accounts.Ref);
            return Task.CompletedTask;
        });
        Assert.Equal(new ForgetLogoutToken("sandbox", "jti-1", check.Attempt), _accounts.ExpectMsg<ForgetLogoutToken>());
    }

    [Fact]
    public async Task An_accepted_token_signs_out_the_user_it_names()
    {
        var running = StartValidated(out _);
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        var signOut = _accounts.ExpectMsg<SignOut>();
        Assert.Equal(new OAuthAccount("sandbox", "alice"), signOut.Account);
        _accounts.Reply(new SignOutResult(signOut.Account, RevocationOutcome.Revoked));

        // Carried out: recorded as such before the logout returns (so before the provider's 200), and not forgotten.
        Assert.Equal(new CompleteLogoutToken("sandbox", "jti-1"), _accounts.ExpectMsg<CompleteLogoutToken>());
        Assert.False(running.IsCompleted);
        _accounts.Reply(new LogoutTokenCompleted("jti-1"));
        var result = await running.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([signOut.Account], result.SignedOut.Select(r => r.Account));
        _accounts.ExpectNoMsg(Short);
    }

    [Fact]
    public async Task A_completion_the_guard_does_not_confirm_keeps_the_token_held_until_the_guard_forgets_it()
    {
        var running = StartValidated(out var check, checkTimeout: TimeSpan.FromMilliseconds(500));
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.Accepted));
        var signOut = _accounts.ExpectMsg<SignOut>();
        _accounts.Reply(new SignOutResult(signOut.Account, RevocationOutcome.Revoked));
        _accounts.ExpectMsg<CompleteLogoutToken>(); // and no answer

        // The logout stands (the user is signed out, the app told); its token is not let go at the lease's end, where a
        // captured copy posted later would be carried out again and sign out a session opened since.
        var held = _accounts.ExpectMsg<RenewLogoutToken>(TimeSpan.FromSeconds(5));
        Assert.Equal(new RenewLogoutToken("sandbox", "jti-1", check.Attempt, TimeSpan.MaxValue), held);
        Assert.Equal([signOut.Account], (await running.WaitAsync(TimeSpan.FromSeconds(5))).SignedOut.Select(r => r.Account));
    }

    /// <summary>
    /// The provider posts the token again while its first post is still being carried out (its own timeout passed). That
    /// post used to be refused as a replay, for good, although the first could still fail and forget the token; it is sent
    /// back to be posted later now, and signs nobody out.
    /// </summary>
    [Fact]
    public async Task A_token_posted_again_while_its_first_post_runs_is_sent_back_as_in_progress_not_refused_as_a_replay()
    {
        var again = StartValidated(out _);
        _accounts.Reply(new LogoutTokenAcceptance(LogoutTokenCheck.InProgress));

        var error = await Assert.ThrowsAsync<BackChannelLogoutException>(() => again);
        Assert.Equal(BackChannelLogoutFailure.InProgress, error.Failure);
        _accounts.ExpectNoMsg(Short); // no SignOut, and the token is not forgotten: the first post owns it
    }
}
