using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Flows;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A sign-out that ends the provider's session: once its tokens are revoked and removed, the account is signed out, and
/// the end-session browser step (which may take minutes, or never come back) finishes on its own. A new sign-in meanwhile
/// is stored at once and silent token requests are answered as for any account, while the step's answer still reaches the
/// sign-out's caller; an interactive one is told the account is signing out (the provider's session may still be alive).
/// </summary>
public sealed partial class AccountActorTests
{
    /// <summary>The end-session step of Alice's sign-out, under way: its caller's answer, the actor that runs it, and its end.</summary>
    private sealed record EndSessionStep(Task<SignOutResult> SignOut, IActorRef SigningOut, Action End);

    /// <summary>Alice signs in through <paramref name="accounts"/>, then out ending the provider's session; returns once the step has begun.</summary>
    private async Task<EndSessionStep> EndSessionStepUnderWayAsync(IActorRef accounts, RotatingStrategy strategy, TestProbe flows)
    {
        await Remember(accounts, Alice, strategy.Issue("alice"));
        var signOut = accounts.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.EndingProviderSession), Wait);
        var step = flows.FishForMessage<EndProviderSession>(_ => true, Wait);
        var signingOut = flows.LastSender;
        return new EndSessionStep(signOut, signingOut, () => signingOut.Tell(new ProviderSessionEnded(step.RequestId, ProviderSessionOutcome.Ended)));
    }

    /// <summary>A node's accounts supervisor whose Alice is in her sign-out's end-session step; its actor is watched.</summary>
    private async Task<(RotatingStrategy Strategy, TestProbe Flows, IActorRef Accounts, EndSessionStep Step)> AccountsWithEndSessionStepAsync()
    {
        var strategy = NewStrategy();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), flows.Ref);
        var step = await EndSessionStepUnderWayAsync(accounts, strategy, flows);
        Watch(step.SigningOut);
        return (strategy, flows, accounts, step);
    }

    /// <summary>A cluster entity's supervisor, which runs Alice's account alone, as a child of <paramref name="shard"/>.</summary>
    private async Task<(RotatingStrategy Strategy, TestProbe Flows, IActorRef Entity)> EntityAsync(TestProbe shard)
    {
        var strategy = NewStrategy();
        var registry = await this.ProvidersAsync(strategy);
        var store = new InMemoryTokenStore();
        var flows = CreateTestProbe();
        var entity = shard.ChildActorOf(AccountsSupervisor.ForEntity(store, registry, flows.Ref, AccountTestSupport.Settings(), Alice,
            this.AccountsOver(store, registry, flows.Ref)));
        return (strategy, flows, entity);
    }

    [Fact]
    public async Task A_sign_in_during_the_end_session_step_of_a_sign_out_is_stored_and_served_at_once()
    {
        var (strategy, flows, accounts, step) = await AccountsWithEndSessionStepAsync();

        var signedOut = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        var newLogin = strategy.Issue("alice");
        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, newLogin), Wait);

        Assert.Equal(InteractionReason.NoAccount, signedOut.Reason);
        Assert.DoesNotContain("signing out", signedOut.Message);
        Assert.Equal(newLogin.AccessToken, (await Get(accounts, Alice)).Token);
        Assert.False(step.SignOut.IsCompleted);
        step.End();
        Assert.Equal(ProviderSessionOutcome.Ended, (await step.SignOut).ProviderSession);
        ExpectTerminated(step.SigningOut, Wait);
        Assert.Equal(newLogin.AccessToken, (await Get(accounts, Alice)).Token);
    }

    /// <summary>
    /// The same in a cluster entity, whose supervisor runs one account: the new sign-in's actor serves it, and the entity is
    /// not passivated when the signed-out actor ends its step (the account's live actor would stop with it).
    /// </summary>
    [Fact]
    public async Task In_a_cluster_entity_a_sign_in_during_the_end_session_step_is_stored_and_the_entity_stays()
    {
        var shard = CreateTestProbe();
        var (strategy, flows, entity) = await EntityAsync(shard);
        var step = await EndSessionStepUnderWayAsync(entity, strategy, flows);
        Watch(step.SigningOut);

        var newLogin = strategy.Issue("alice");
        await entity.Ask<LoginRemembered>(new RememberLogin(Alice, newLogin), Wait);
        step.End();
        await step.SignOut;
        ExpectTerminated(step.SigningOut, Wait);

        shard.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // no AccountRetiredInEntity: the new sign-in's actor runs
        Assert.Equal(newLogin.AccessToken, (await Get(entity, Alice)).Token);
    }

    /// <summary>
    /// An entity moving while its signed-out actor still ends the provider's session: it stops once that step has ended
    /// and the actor stopped. It counted the stopped actor as still running before, and never stopped (sharding waited
    /// out its whole hand-off timeout).
    /// </summary>
    [Fact]
    public async Task A_cluster_entity_moving_during_the_end_session_step_stops_once_the_step_has_ended()
    {
        var (strategy, flows, entity) = await EntityAsync(CreateTestProbe());
        Watch(entity);
        var step = await EndSessionStepUnderWayAsync(entity, strategy, flows);

        entity.Tell(AccountHandOff.Instance);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // not Terminated: the step goes on for the sign-out's caller

        step.End();
        Assert.Equal(ProviderSessionOutcome.Ended, (await step.SignOut).ProviderSession);
        ExpectTerminated(entity, Wait);
    }

    /// <summary>
    /// While the end-session step runs the provider's browser session may still be alive: an interactive token request
    /// that opened a browser now would be signed straight back in by it before the user confirmed the logout. It is told
    /// the account is signing out, and opens nothing, until the step's actor has stopped.
    /// </summary>
    [Fact]
    public async Task An_interactive_request_during_the_end_session_step_is_told_the_account_is_signing_out_and_opens_no_browser()
    {
        var (_, flows, accounts, step) = await AccountsWithEndSessionStepAsync();

        var refused = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice, AccessTokenOptions.Interactive));
        var silent = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));

        Assert.Equal(InteractionReason.NoAccount, refused.Reason);
        Assert.Contains("signing out", refused.Message);
        Assert.DoesNotContain("signing out", silent.Message); // the fresh actor's answer: no tokens
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(300));   // no StartFlow: no browser opened
        step.End();
        await step.SignOut;
        ExpectTerminated(step.SigningOut, Wait);

        // The step is over: an interactive request signs in again (the supervisor hears of the stop a moment after this test may).
        await AwaitAssertAsync(async () =>
        {
            accounts.Tell(new GetAccessToken(Alice, null, AccessTokenOptions.Interactive), CreateTestProbe().Ref);
            Assert.Equal("p", (await flows.ExpectMsgAsync<StartFlow>(TimeSpan.FromMilliseconds(500))).Provider);
        }, Wait);
    }

    /// <summary>
    /// The app signs the account in during the end-session step (the user chose to): interactive requests go to the
    /// account again, and are served. The same in a cluster entity, whose supervisor runs the one account.
    /// </summary>
    [Fact]
    public async Task After_a_sign_in_during_the_end_session_step_an_interactive_request_is_served_in_a_cluster_entity()
    {
        var (strategy, flows, entity) = await EntityAsync(CreateTestProbe());
        var step = await EndSessionStepUnderWayAsync(entity, strategy, flows);

        var refused = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(entity, Alice, AccessTokenOptions.Interactive));
        var newLogin = strategy.Issue("alice");
        await Remember(entity, Alice, newLogin);

        Assert.Contains("signing out", refused.Message);
        Assert.Equal(newLogin.AccessToken, (await Get(entity, Alice, AccessTokenOptions.Interactive)).Token);
        step.End();
        await step.SignOut;
    }
}
