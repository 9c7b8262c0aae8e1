using Akka.Actor;
using Akka.TestKit;
using O8Actors.Logout;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A provider's guard entity that sharding moves leaves what it accepted for its next incarnation, and an incarnation
/// that starts answers no check before it has read what the previous one left: checks that reach it first wait. The
/// node's hand-over store is a probe here (<see cref="LogoutTokenHandOverStoreTests"/> has the real one).
/// </summary>
public sealed class LogoutTokenGuardHandOverTests : Akka.TestKit.Xunit.TestKit
{
    private const string Provider = "sandbox";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(220);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private AcceptLogoutToken Check(string jwtId, string attempt) => new(Provider, jwtId, Sys.Scheduler.Now.AddMinutes(62), attempt, Lease);

    /// <summary>A guard on its first node that completed jti-done and holds jti-held for attempt-1.</summary>
    private IActorRef GuardThatAccepted(TestProbe handOvers)
    {
        var guard = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, handOvers.Ref));
        // The cluster's first guard of this provider: nothing was left for it.
        handOvers.ExpectMsg<FindLogoutTokenHandOver>(Wait, cancellationToken: Ct);
        handOvers.Reply(new LogoutTokenHandOverFound([]));
        guard.Tell(Check("jti-done", "attempt-1"));
        guard.Tell(new CompleteLogoutToken(Provider, "jti-done"));
        guard.Tell(Check("jti-held", "attempt-1"));
        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
        ExpectMsg<LogoutTokenCompleted>(Wait, cancellationToken: Ct);
        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
        return guard;
    }

    /// <summary>The guard of <see cref="GuardThatAccepted"/> told to move: what it left.</summary>
    private LogoutTokensHandedOver MovedGuardsHandOver()
    {
        var handOvers = CreateTestProbe();
        GuardThatAccepted(handOvers).Tell(LogoutTokenGuardHandOff.Instance);
        return handOvers.ExpectMsg<SaveLogoutTokenHandOver>(Wait, cancellationToken: Ct).HandOver;
    }

    [Fact]
    public void A_guard_told_to_move_leaves_what_it_accepted_and_stops_once_that_is_stored()
    {
        var handOvers = CreateTestProbe();
        var guard = GuardThatAccepted(handOvers);
        Watch(guard);

        guard.Tell(LogoutTokenGuardHandOff.Instance);

        var handOver = handOvers.ExpectMsg<SaveLogoutTokenHandOver>(Wait, cancellationToken: Ct).HandOver;
        Assert.Equal(Provider, handOver.Provider);
        Assert.Equal([("jti-done", true, "attempt-1"), ("jti-held", false, "attempt-1")],
            handOver.Holds.Select(h => (h.JwtId, h.Completed, h.Attempt)).OrderBy(h => h.JwtId, StringComparer.Ordinal));
        // Not before it is stored: sharding starts the next incarnation only once this one has stopped.
        ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);

        handOvers.Reply(LogoutTokenHandOverSaved.Instance);
        ExpectTerminated(guard, Wait, cancellationToken: Ct);
    }

    /// <summary>
    /// The attack across a move: the replay of a completed token reaches the guard's next incarnation before it has read
    /// what the previous one left. It is held back, and refused once that is in; a guard that answered at once (or that
    /// started empty, as before) accepted it, and signed out again the sessions opened since.
    /// </summary>
    [Fact]
    public void A_replay_that_reaches_the_next_guard_before_it_has_read_the_hand_over_waits_for_it_and_is_refused()
    {
        var handOver = MovedGuardsHandOver();
        var handOvers = CreateTestProbe();

        var next = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, handOvers.Ref));
        Assert.Equal(Provider, handOvers.ExpectMsg<FindLogoutTokenHandOver>(Wait, cancellationToken: Ct).Provider);
        next.Tell(Check("jti-done", "attempt-2"));
        next.Tell(Check("jti-held", "attempt-2"));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);

        handOvers.Reply(new LogoutTokenHandOverFound(handOver.Holds));

        Assert.Equal(LogoutTokenCheck.Replayed, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
        Assert.Equal(LogoutTokenCheck.InProgress, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
        // A token nobody accepted before is this guard's to accept, once.
        next.Tell(Check("jti-new", "attempt-2"));
        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
    }

    [Fact]
    public void A_guard_with_no_predecessor_answers_as_soon_as_the_store_finds_nothing()
    {
        var handOvers = CreateTestProbe();
        var guard = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, handOvers.Ref));
        guard.Tell(Check("jti-1", "attempt-1"));
        handOvers.ExpectMsg<FindLogoutTokenHandOver>(Wait, cancellationToken: Ct);

        handOvers.Reply(new LogoutTokenHandOverFound([]));

        Assert.Equal(LogoutTokenCheck.Accepted, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
    }

    [Fact]
    public void A_guard_moved_on_before_it_read_the_hand_over_leaves_the_previous_one_in_place()
    {
        var handOvers = CreateTestProbe();
        var guard = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, handOvers.Ref));
        Watch(guard);
        handOvers.ExpectMsg<FindLogoutTokenHandOver>(Wait, cancellationToken: Ct);

        guard.Tell(LogoutTokenGuardHandOff.Instance);

        // It knows nothing yet: an empty hand-over of its own would overwrite the one its successor must read.
        ExpectTerminated(guard, Wait, cancellationToken: Ct);
        handOvers.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);
    }

    /// <summary>
    /// A back-channel logout's check reached a fresh guard while it was still reading its predecessor's hand-over, and the
    /// guard moved on before it had read it: the check is answered at once as under way elsewhere (its post is told to
    /// post again later). It went to dead letters before, and the provider's post waited out the check's whole wait (30 s).
    /// </summary>
    [Fact]
    public void A_check_held_by_a_guard_moved_on_before_it_read_the_hand_over_is_answered_at_once()
    {
        var handOvers = CreateTestProbe();
        var guard = Sys.ActorOf(LogoutTokenGuardEntity.Props(Provider, handOvers.Ref));
        handOvers.ExpectMsg<FindLogoutTokenHandOver>(Wait, cancellationToken: Ct);
        guard.Tell(Check("jti-1", "attempt-1"));

        guard.Tell(LogoutTokenGuardHandOff.Instance);

        Assert.Equal(LogoutTokenCheck.InProgress, ExpectMsg<LogoutTokenAcceptance>(Wait, cancellationToken: Ct).Check);
    }
}
