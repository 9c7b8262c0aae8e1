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

    // A guard whose entity moved, as it left it: jti-done completed, jti-held accepted by attempt-1 and under way.
    private static LogoutTokenReplayGuard MovedGuard()
    {
        var guard = new LogoutTokenReplayGuard();
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept("jti-done", First, Issued.AddMinutes(62), Lease, Issued));
        guard.Complete("jti-done");
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept("jti-held", First, Issued.AddMinutes(62), Lease, Issued));
        return guard;
    }

    /// <summary>
    /// The guard's memory moves with its entity: the guard that takes it over refuses the completed token as a replay and
    /// answers the one under way as in progress until its lease ends, as the first guard would have (before, a guard on
    /// the new node started empty and accepted both again).
    /// </summary>
    [Fact]
    public void A_guard_that_takes_over_anothers_export_refuses_what_the_first_refused_until_the_same_times()
    {
        var next = new LogoutTokenReplayGuard();
        next.Merge(MovedGuard().Export(Issued.AddSeconds(1)), Issued.AddSeconds(2));

        Assert.Equal(LogoutTokenCheck.Replayed, next.Accept("jti-done", "attempt-2", Issued.AddMinutes(62), Lease, Issued.AddSeconds(3)));
        Assert.Equal(LogoutTokenCheck.InProgress, next.Accept("jti-held", "attempt-2", Issued.AddMinutes(62), Lease, Issued + Lease - TimeSpan.FromSeconds(1)));
        // The holding attempt renews and completes on the new guard: it is still the holder there.
        next.Renew("jti-held", First, Lease, Issued + Lease - TimeSpan.FromSeconds(1));
        Assert.Equal(LogoutTokenCheck.InProgress, next.Accept("jti-held", "attempt-2", Issued.AddMinutes(62), Lease, Issued + Lease + TimeSpan.FromSeconds(1)));
        next.Complete("jti-held");
        Assert.Equal(LogoutTokenCheck.Replayed, next.Accept("jti-held", "attempt-2", Issued.AddMinutes(62), Lease, Issued.AddMinutes(61)));
        // Each is forgotten when the first guard would have forgotten it.
        Assert.Equal(LogoutTokenCheck.Accepted, next.Accept("jti-done", "attempt-3", Issued.AddMinutes(90), Lease, Issued.AddMinutes(62).AddSeconds(1)));
    }

    [Fact]
    public void An_export_is_a_copy_that_the_guards_later_changes_do_not_touch_and_leaves_out_what_it_no_longer_remembers()
    {
        var guard = MovedGuard();
        Assert.Equal(LogoutTokenCheck.Accepted, guard.Accept("jti-short", First, Issued.AddMinutes(5), Lease, Issued));

        var export = guard.Export(Issued.AddMinutes(6));
        guard.Complete("jti-held");
        guard.Forget("jti-held", First);

        Assert.Equal(["jti-done", "jti-held"], export.Select(h => h.JwtId).Order(StringComparer.Ordinal));
        Assert.Equal(new LogoutTokenHold("jti-held", Issued.AddMinutes(62), false, First, Issued + Lease), export.Single(h => h.JwtId == "jti-held"));
        Assert.Equal(new LogoutTokenHold("jti-done", Issued.AddMinutes(62), true, First, Issued + Lease), export.Single(h => h.JwtId == "jti-done"));
    }

    /// <summary>
    /// The new guard may already have answered posts before the hand-over reached it: of two records of one token the
    /// merge keeps whichever refuses more (the longer memory, a completion, the later lease with its attempt), never
    /// shortening a hold; a record already past its time is dropped, and one the new guard does not have is taken as it is.
    /// </summary>
    [Fact]
    public void A_merge_keeps_the_stricter_of_two_records_of_a_token_and_drops_the_expired()
    {
        var now = Issued.AddMinutes(1);
        var mine = new LogoutTokenReplayGuard();
        mine.Merge(
        [
            new LogoutTokenHold("jti-a", Issued.AddMinutes(10), Completed: true, "mine-a", Issued),
            new LogoutTokenHold("jti-b", Issued.AddMinutes(30), Completed: false, "mine-b", now.AddMinutes(1)),
            new LogoutTokenHold("jti-c", Issued.AddMinutes(30), Completed: false, "mine-c", now.AddMinutes(5)),
        ], now);

        mine.Merge(
        [
            // Not completed there, and remembered longer: still spent, for the longer time.
            new LogoutTokenHold("jti-a", Issued.AddMinutes(40), Completed: false, "theirs-a", now.AddMinutes(9)),
            // A later lease than mine: its attempt holds the token until then.
            new LogoutTokenHold("jti-b", Issued.AddMinutes(20), Completed: false, "theirs-b", now.AddMinutes(3)),
            // An earlier lease than mine: mine stays.
            new LogoutTokenHold("jti-c", Issued.AddMinutes(20), Completed: false, "theirs-c", now.AddMinutes(2)),
            new LogoutTokenHold("jti-new", Issued.AddMinutes(20), Completed: true, "theirs-new", now),
            new LogoutTokenHold("jti-gone", now.AddSeconds(-1), Completed: true, "theirs-gone", now),
        ], now);

        Assert.Equal(
        [
            new LogoutTokenHold("jti-a", Issued.AddMinutes(40), true, "theirs-a", now.AddMinutes(9)),
            new LogoutTokenHold("jti-b", Issued.AddMinutes(30), false, "theirs-b", now.AddMinutes(3)),
            new LogoutTokenHold("jti-c", Issued.AddMinutes(30), false, "mine-c", now.AddMinutes(5)),
            new LogoutTokenHold("jti-new", Issued.AddMinutes(20), true, "theirs-new", now),
        ], mine.Export(now).OrderBy(h => h.JwtId, StringComparer.Ordinal));
        // The expired one is not held: the token's own lifetime check refuses it now, and the guard accepts its jti afresh.
        Assert.Equal(LogoutTokenCheck.Accepted, mine.Accept("jti-gone", First, Issued.AddMinutes(20), Lease, now));
        // Only the attempt the merge kept as holder renews or releases the token.
        mine.Forget("jti-b", "mine-b");
        Assert.Equal(LogoutTokenCheck.InProgress, mine.Accept("jti-b", First, Issued.AddMinutes(30), Lease, now.AddMinutes(2)));
        mine.Forget("jti-b", "theirs-b");
        Assert.Equal(LogoutTokenCheck.Accepted, mine.Accept("jti-b", First, Issued.AddMinutes(30), Lease, now.AddMinutes(2)));
    }
}
