using Akka.Actor;
using Akka.TestKit;
using O8Actors.Logout;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A provider's guard entity that sharding moves hands what it accepted to its next incarnation through the guards'
/// region, and a guard that starts answers no check before that hand-over arrives (or its wait for one ends): checks
/// buffered by another node's region may reach it first. Virtual time: the wait ends only when the test moves the clock.
/// </summary>
public sealed class LogoutTokenGuardHandOverTests() : Akka.TestKit.Xunit.TestKit(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""")
{
    private const string Provider = "sandbox";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(220);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private AcceptLogoutToken Check(string jwtId, string attempt) => new(Provider, jwtId, Clock.Now.AddMinutes(62), attempt, Lease);

    /// <summary>A guard on its first node (no predecessor awaited) that completed jti-done and holds jti-held for attempt-1.</summary>
    private IActorRef GuardThatAccepted(IActorRef region)
    {
        var guard = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, region, TimeSpan.Zero));
        guard.Tell(Check("jti-done", "attempt-1"));
        guard.Tell(new CompleteLogoutToken(Provider, "jti-done"));
        guard.Tell(Check("jti-held", "attempt-1"));
        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
        ExpectMsg<LogoutTokenCompleted>(Wait, cancellationToken: Ct);
        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
        return guard;
    }

    [Fact]
    public void A_guard_told_to_move_sends_what_it_accepted_to_its_region_under_its_own_id_and_stops()
    {
        var region = CreateTestProbe();
        var guard = GuardThatAccepted(region.Ref);
        Watch(guard);

        guard.Tell(LogoutTokenGuardHandOff.Instance);

        var handedOver = region.ExpectMsg<LogoutTokensHandedOver>(Wait, cancellationToken: Ct);
        Assert.Equal(Provider, handedOver.Provider);
        Assert.Equal([("jti-done", true, "attempt-1"), ("jti-held", false, "attempt-1")],
            handedOver.Holds.Select(h => (h.JwtId, h.Completed, h.Attempt)).OrderBy(h => h.JwtId, StringComparer.Ordinal));
        Assert.All(handedOver.Holds, h => Assert.Equal(Clock.Now + Lease, h.LeaseEnds));
        ExpectTerminated(guard, Wait, cancellationToken: Ct);
    }

    /// <summary>
    /// The attack across a move: the replay of a completed token reaches the guard's next incarnation before the hand-over
    /// does (another node's region delivered it first). It is held back, and refused once the hand-over is in; a guard
    /// that answered at once had accepted it, and signed out again the sessions opened since.
    /// </summary>
    [Fact]
    public void A_replay_that_reaches_the_next_guard_before_the_hand_over_waits_for_it_and_is_refused()
    {
        var region = CreateTestProbe();
        GuardThatAccepted(region.Ref).Tell(LogoutTokenGuardHandOff.Instance);
        var handedOver = region.ExpectMsg<LogoutTokensHandedOver>(Wait, cancellationToken: Ct);

        var next = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, region.Ref));
        next.Tell(Check("jti-done", "attempt-2"));
        next.Tell(Check("jti-held", "attempt-2"));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);

        next.Tell(handedOver);

        Assert.Equal(LogoutTokenCheck.Replayed, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
        Assert.Equal(LogoutTokenCheck.InProgress, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
        // A token nobody accepted before is this guard's to accept, once.
        next.Tell(Check("jti-new", "attempt-2"));
        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
    }

    [Fact]
    public async Task A_guard_with_no_predecessor_answers_once_its_wait_for_a_hand_over_ends_and_still_takes_a_late_one()
    {
        var region = CreateTestProbe();
        var guard = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, region.Ref));
        guard.Tell(Check("jti-1", "attempt-1"));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);

        // Its timer starts with the actor: move the clock until it has run out (a move before it started changes nothing).
        await AwaitAssertAsync(() =>
        {
            Clock.Advance(LogoutTokenGuardEntity.HandOverWait);
            Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(TimeSpan.FromMilliseconds(200), cancellationToken: Ct).Check);
        }, Wait, cancellationToken: Ct);

        // A hand-over later than the wait is merged all the same: its completed token is a replay here from now on.
        guard.Tell(new LogoutTokensHandedOver(Provider, [new LogoutTokenHold("jti-2", Clock.Now.AddMinutes(62), true, "elsewhere", Clock.Now)]));
        guard.Tell(Check("jti-2", "attempt-2"));
        Assert.Equal(LogoutTokenCheck.Replayed, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
    }

    [Fact]
    public void A_guard_moved_again_before_its_hand_over_came_passes_the_checks_it_held_back_on_behind_its_own()
    {
        var region = CreateTestProbe();
        var guard = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, region.Ref));
        var check = Check("jti-1", "attempt-1");
        guard.Tell(check);

        guard.Tell(LogoutTokenGuardHandOff.Instance);

        Assert.Empty(region.ExpectMsg<LogoutTokensHandedOver>(Wait, cancellationToken: Ct).Holds);
        Assert.Equal(check, region.ExpectMsg<AcceptLogoutToken>(Wait, cancellationToken: Ct));
        // With the asker as its sender, so the guard at the next home answers it.
        Assert.Equal(TestActor, region.LastSender);
    }
}
