using O8Actors.Logout;

namespace O8Actors.Tests.Logout;

/// <summary>How long a logout token's <c>jti</c> is held, and that a replay within that time is refused.</summary>
public sealed class LogoutTokenReplayGuardTests
{
    private static readonly DateTimeOffset Issued = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    // The lease of an attempt with the default settings: 30 s lists, sign-outs of two 80 s renewal timeouts.
    private static readonly TimeSpan Lease = BackChannelLogoutCall.Lease(TimeSpan.FromSeconds(160), TimeSpan.FromSeconds(30));
    private const string First = "attempt-1";

    [Fact]
    public void A_token_is_accepted_once_and_its_replay_refused_until_it_could_no_longer_pass_its_lifetime_check()
    {
        var guard = new LogoutTokenReplayGuard();
        var token = new LogoutToken("https://issuer.test", "alice", "sid-1", "jti-1", Issued, Issued.AddMinutes(2));
        var keepUntil = LogoutTokenReplayGuard.KeepUntil(token);

        Assert.Equal(Issued.AddMinutes(2) + LogoutTokenReplayGuard.Margin, keepUntil);
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept(token.JwtId, First, keepUntil, Lease, Issued));
        guard.Complete(token.JwtId);
        Assert.Equal(LogoutTokenCheck.Replayed, guard.Accept(token.JwtId, First, keepUntil, Lease, Issued.AddSeconds(1)));
        Assert.Equal(LogoutTokenCheck.Replayed, guard.Accept(token.JwtId, First, keepUntil, Lease, keepUntil));
        // Another token of the same provider is its own.
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept("jti-2", First, keepUntil, Lease, Issued.AddSeconds(1)));
        // Past that, the token's own lifetime check refuses it: the guard may forget it.
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept(token.JwtId, First, keepUntil.AddMinutes(5), Lease, keepUntil.AddSeconds(1)));
    }

    [Fact]
    public void A_replay_is_refused_for_as_long_as_the_largest_clock_skew_a_provider_may_be_given_lets_it_pass()
    {
        var guard = new LogoutTokenReplayGuard();
        var expires = Issued.AddMinutes(2);
        var token = new LogoutToken("https://issuer.test", "alice", "sid-1", "jti-1", Issued, expires);
        var keepUntil = LogoutTokenReplayGuard.KeepUntil(token);
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept(token.JwtId, First, keepUntil, Lease, Issued));
        guard.Complete(token.JwtId);

        // A provider with IdTokenClockSkew = 1 hour (the most allowed) still accepts the token just before exp + 1 hour.
        var lastMomentValid = expires + O8Actors.Providers.IdTokens.IdTokenValidator.MaxClockSkew - TimeSpan.FromSeconds(1);
        Assert.Equal(LogoutTokenCheck.Replayed, guard.Accept(token.JwtId, First, keepUntil, Lease, lastMomentValid));
        Assert.True(keepUntil > expires + O8Actors.Providers.IdTokens.IdTokenValidator.MaxClockSkew);
    }

    [Fact]
    public void A_hold_kept_until_the_guard_forgets_the_token_outlasts_its_lease_and_ends_with_the_token()
    {
        var guard = new LogoutTokenReplayGuard();
        var token = new LogoutToken("https://issuer.test", "alice", "sid-1", "jti-1", Issued, Issued.AddMinutes(2));
        var keepUntil = LogoutTokenReplayGuard.KeepUntil(token);
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept(token.JwtId, First, keepUntil, Lease, Issued));

        // Its completion went unconfirmed: the attempt keeps its hold for as long as the token could pass.
        guard.Renew(token.JwtId, First, TimeSpan.MaxValue, Issued.AddSeconds(1));

        Assert.Equal(LogoutTokenCheck.InProgress, guard.Accept(token.JwtId, "attempt-2", keepUntil, Lease, Issued + Lease + TimeSpan.FromSeconds(1)));
        Assert.Equal(LogoutTokenCheck.InProgress, guard.Accept(token.JwtId, "attempt-2", keepUntil, Lease, keepUntil));
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept(token.JwtId, "attempt-2", keepUntil.AddMinutes(5), Lease, keepUntil.AddSeconds(1)));
    }

    [Fact]
    public void A_token_at_the_end_of_time_is_held_until_then_and_never_overflows()
    {
        var end = new LogoutToken("https://issuer.test", "alice", null, "jti-1", Issued, DateTimeOffset.MaxValue.AddMinutes(-1));
        Assert.Equal(DateTimeOffset.MaxValue, LogoutTokenReplayGuard.KeepUntil(end));
        var late = new LogoutToken("https://issuer.test", "alice", null, "jti-2", DateTimeOffset.MaxValue, null);
        Assert.Equal(DateTimeOffset.MaxValue, LogoutTokenReplayGuard.KeepUntil(late));
    }

    [Fact]
    public void A_forgotten_token_is_accepted_again()
    {
        var guard = new LogoutTokenReplayGuard();
        var keepUntil = Issued.AddMinutes(12);
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept("jti-1", First, keepUntil, Lease, Issued));

        guard.Forget("jti-1", First);

        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept("jti-1", First, keepUntil, Lease, Issued.AddSeconds(1)));
        Assert.Equal(LogoutTokenCheck.InProgress, guard.Accept("jti-1", First, keepUntil, Lease, Issued.AddSeconds(2)));
    }

    [Fact]
    public void A_token_whose_logout_is_under_way_is_in_progress_until_it_completes_then_a_replay()
    {
        var guard = new LogoutTokenReplayGuard();
        var keepUntil = Issued.AddMinutes(12);
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept("jti-1", First, keepUntil, Lease, Issued));

        // Posted again before the first post ended: that one may still fail, so this is no replay yet.
        Assert.Equal(LogoutTokenCheck.InProgress, guard.Accept("jti-1", First, keepUntil, Lease, Issued.AddSeconds(1)));
        guard.Complete("jti-1");
        Assert.Equal(LogoutTokenCheck.Replayed, guard.Accept("jti-1", First, keepUntil, Lease, Issued.AddSeconds(2)));
        // Completing a token the guard does not hold (forgotten, or swept) records nothing.
        guard.Complete("jti-2");
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept("jti-2", First, keepUntil, Lease, Issued.AddSeconds(3)));
    }

    // One post of jti-1 by an attempt, at a time within the token's retention.
    private static LogoutTokenCheck Post(LogoutTokenReplayGuard guard, string attempt, DateTimeOffset at) =>
        guard.Accept("jti-1", attempt, Issued.AddMinutes(62), Lease, at);

    /// <summary>
    /// The attempt that accepted the token stops with its node: it never completes nor releases it. Its hold used to last
    /// until the token expired from the guard (over an hour of 503s, then "replayed", the logout lost); now it lapses once
    /// its lease runs out unrenewed, and the provider's next post takes the token over.
    /// </summary>
    [Fact]
    public void A_token_held_by_an_attempt_that_stopped_is_taken_over_by_the_next_post_once_its_lease_runs_out()
    {
        var guard = new LogoutTokenReplayGuard();
        Assert.Equal(LogoutTokenCheck.Accepted, Post(guard, First, Issued));

        Assert.Equal(LogoutTokenCheck.InProgress, Post(guard, "attempt-2", Issued + Lease - TimeSpan.FromSeconds(1)));
        // Still running, it renews before its next batch: its hold runs a lease from then.
        guard.Renew("jti-1", First, Lease, Issued + Lease - TimeSpan.FromSeconds(1));
        Assert.Equal(LogoutTokenCheck.InProgress, Post(guard, "attempt-2", Issued + Lease));
        Assert.Equal(LogoutTokenCheck.Accepted, Post(guard, "attempt-3", Issued + Lease + Lease));
        // The taker holds it now, for a lease of its own.
        Assert.Equal(LogoutTokenCheck.InProgress, Post(guard, "attempt-4", Issued + Lease + Lease + TimeSpan.FromSeconds(1)));
        guard.Complete("jti-1");
        Assert.Equal(LogoutTokenCheck.Replayed, Post(guard, "attempt-4", Issued.AddMinutes(62)));
    }

    /// <summary>
    /// The first attempt was slow, not gone: a later post took the token over once its lease ran out, then the first one
    /// ends. Its release (it failed) must not free the token the taker is carrying out; its completion spends the token
    /// (it did sign the accounts out and tell the app), and the taker's own end changes nothing after that.
    /// </summary>
    [Fact]
    public void The_end_of_an_attempt_whose_token_was_taken_over_neither_frees_the_token_nor_undoes_its_completion()
    {
        var guard = new LogoutTokenReplayGuard();
        var takenOver = Issued + Lease + TimeSpan.FromSeconds(1);
        Assert.Equal(LogoutTokenCheck.Accepted, Post(guard, First, Issued));
        Assert.Equal(LogoutTokenCheck.Accepted, Post(guard, "attempt-2", takenOver));

        guard.Forget("jti-1", First);
        Assert.Equal(LogoutTokenCheck.InProgress, Post(guard, "attempt-3", takenOver.AddSeconds(1)));

        guard.Complete("jti-1");
        guard.Forget("jti-1", "attempt-2");
        Assert.Equal(LogoutTokenCheck.Replayed, Post(guard, "attempt-3", takenOver.AddSeconds(2)));
        Assert.Equal(LogoutTokenCheck.Replayed, Post(guard, "attempt-3", takenOver + Lease + Lease));
    }

    [Fact]
    public void A_token_without_exp_is_held_for_the_two_minutes_it_is_accepted_after_its_iat_plus_the_margin()
    {
        var token = new LogoutToken("https://issuer.test", null, "sid-1", "jti-1", Issued, null);

        Assert.Equal(Issued + O8Actors.Providers.IdTokens.IdTokenValidator.LogoutTokenMaxAge + LogoutTokenReplayGuard.Margin,
            LogoutTokenReplayGuard.KeepUntil(token));
    }
}
