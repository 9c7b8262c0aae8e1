using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// An account's entity while its sign-out ends the provider's browser session (the end-session step, which runs on in a
/// detached actor after the tokens are revoked and removed): the entity moves as soon as the step has ended, and no
/// interactive token request opens a browser meanwhile, where the provider's live session would sign the user back in.
/// </summary>
public sealed partial class AccountEntityHandOffTests
{
    /// <summary>
    /// An entity whose account is signed out and whose end-session step runs (<c>Flows</c> got it); <c>SignOut</c> is the
    /// sign-out's answer, and <c>EndStep</c> ends the step as the browser's return would.
    /// </summary>
    private async Task<(IActorRef Entity, TestProbe Flows, Task<object> SignOut, Action EndStep)> EndSessionStepUnderWayAsync()
    {
        var flows = CreateTestProbe();
        var (entity, providers, store) = StartEntity(flows.Ref);
        await store.SaveAsync(Alice, new TokenSet("access-1", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "refresh-1"), 0, Ct);

        var signOut = entity.Ask<object>(new SignOut(Alice, SignOutOptions.EndingProviderSession), Wait, Ct);
        var revoke = providers.ExpectMsg<RevokeTokens>(Wait, cancellationToken: Ct);
        providers.LastSender.Tell(new RevocationDone(revoke.RequestId, RevocationOutcome.Revoked));
        var step = flows.ExpectMsg<EndProviderSession>(Wait, cancellationToken: Ct);
        var signingOut = flows.LastSender;
        return (entity, flows, signOut, () => signingOut.Tell(new ProviderSessionEnded(step.RequestId, ProviderSessionOutcome.Ended)));
    }

    [Fact]
    public async Task An_entity_moving_during_the_end_session_step_stops_once_the_step_has_ended()
    {
        var (entity, _, signOut, endStep) = await EndSessionStepUnderWayAsync();

        entity.Tell(AccountHandOff.Instance);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct); // not Terminated: the step goes on for the sign-out's caller
        endStep();

        Assert.Equal(ProviderSessionOutcome.Ended, Assert.IsType<SignOutResult>(await signOut).ProviderSession);
        // At once, not at sharding's hand-off timeout: the stopped detached actor no longer counts as running.
        ExpectTerminated(entity, Wait, cancellationToken: Ct);
    }

    [Fact]
    public async Task An_interactive_request_during_the_end_session_step_is_told_the_account_is_signing_out()
    {
        var (entity, flows, signOut, endStep) = await EndSessionStepUnderWayAsync();

        var reply = await entity.Ask<object>(new GetAccessToken(Alice, null, AccessTokenOptions.Interactive), Wait, Ct);

        var failure = Assert.IsType<WireAccountFailure>(reply);
        Assert.Equal(InteractionReason.NoAccount, Assert.IsType<InteractionRequiredException>(failure.ToException()).Reason);
        Assert.Contains("signing out", failure.Message);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct); // no StartFlow: no browser opened
        endStep();
        Assert.IsType<SignOutResult>(await signOut);
    }
}
