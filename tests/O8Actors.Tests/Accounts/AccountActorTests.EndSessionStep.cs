using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Flows;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A sign-out that ends the provider's session: once its tokens are revoked and removed, the account is signed out, and
/// the end-session browser step (which may take minutes, or never come back) finishes on its own. A new sign-in meanwhile
/// is stored at once and token requests are answered as for any account, while the step's answer still reaches the
/// sign-out's caller.
/// </summary>
public sealed partial class AccountActorTests
{
    [Fact]
    public async Task A_sign_in_during_the_end_session_step_of_a_sign_out_is_stored_and_served_at_once()
    {
        var strategy = NewStrategy();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), flows.Ref);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        var signOut = accounts.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.EndingProviderSession), Wait);
        var step = flows.FishForMessage<EndProviderSession>(_ => true, Wait);
        var signingOut = flows.LastSender;
        Watch(signingOut);

        var signedOut = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));
        var newLogin = strategy.Issue("alice");
        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, newLogin), Wait);

        Assert.Equal(InteractionReason.NoAccount, signedOut.Reason);
        Assert.DoesNotContain("signing out", signedOut.Message);
        Assert.Equal(newLogin.AccessToken, (await Get(accounts, Alice)).Token);
        Assert.False(signOut.IsCompleted);
        signingOut.Tell(new ProviderSessionEnded(step.RequestId, ProviderSessionOutcome.Ended));
        Assert.Equal(ProviderSessionOutcome.Ended, (await signOut).ProviderSession);
        ExpectTerminated(signingOut, Wait);
        Assert.Equal(newLogin.AccessToken, (await Get(accounts, Alice)).Token);
    }

    /// <summary>
    /// The same in a cluster entity, whose supervisor runs one account: the new sign-in's actor serves it, and the entity is
    /// not passivated when the signed-out actor ends its step (the account's live actor would stop with it).
    /// </summary>
    [Fact]
    public async Task In_a_cluster_entity_a_sign_in_during_the_end_session_step_is_stored_and_the_entity_stays()
    {
        var strategy = NewStrategy();
        var registry = await this.ProvidersAsync(strategy);
        var store = new InMemoryTokenStore();
        var flows = CreateTestProbe();
        var shard = CreateTestProbe();
        var entity = shard.ChildActorOf(AccountsSupervisor.ForEntity(store, registry, flows.Ref, AccountTestSupport.Settings(), Alice,
            this.AccountsOver(store, registry, flows.Ref)));
        await Remember(entity, Alice, strategy.Issue("alice"));
        var signOut = entity.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.EndingProviderSession), Wait);
        var step = flows.FishForMessage<EndProviderSession>(_ => true, Wait);
        var signingOut = flows.LastSender;
        Watch(signingOut);

        var newLogin = strategy.Issue("alice");
        await entity.Ask<LoginRemembered>(new RememberLogin(Alice, newLogin), Wait);
        signingOut.Tell(new ProviderSessionEnded(step.RequestId, ProviderSessionOutcome.Ended));
        await signOut;
        ExpectTerminated(signingOut, Wait);

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
        var strategy = NewStrategy();
        var registry = await this.ProvidersAsync(strategy);
        var store = new InMemoryTokenStore();
        var flows = CreateTestProbe();
        var shard = CreateTestProbe();
        var entity = shard.ChildActorOf(AccountsSupervisor.ForEntity(store, registry, flows.Ref, AccountTestSupport.Settings(), Alice,
            this.AccountsOver(store, registry, flows.Ref)));
        Watch(entity);
        await Remember(entity, Alice, strategy.Issue("alice"));
        var signOut = entity.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.EndingProviderSession), Wait);
        var step = flows.FishForMessage<EndProviderSession>(_ => true, Wait);
        var signingOut = flows.LastSender;

        entity.Tell(AccountHandOff.Instance);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // not Terminated: the step goes on for the sign-out's caller

        signingOut.Tell(new ProviderSessionEnded(step.RequestId, ProviderSessionOutcome.Ended));
        Assert.Equal(ProviderSessionOutcome.Ended, (await signOut).ProviderSession);
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
        var strategy = NewStrategy();
        var flows = CreateTestProbe();
        var accounts = await Accounts(strategy, new InMemoryTokenStore(), flows.Ref);
        await Remember(accounts, Alice, strategy.Issue("alice"));
        var signOut = accounts.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.EndingProviderSession), Wait);
        var step = flows.FishForMessage<EndProviderSession>(_ => true, Wait);
        var signingOut = flows.LastSender;
        Watch(signingOut);

        var refused = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice, AccessTokenOptions.Interactive));
        var silent = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice));

        Assert.Equal(InteractionReason.NoAccount, refused.Reason);
        Assert.Contains("signing out", refused.Message);
        Assert.DoesNotContain("signing out", silent.Message); // the fresh actor's answer: no tokens
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(300));   // no StartFlow: no browser opened
        signingOut.Tell(new ProviderSessionEnded(step.RequestId, ProviderSessionOutcome.Ended));
        await signOut;
        ExpectTerminated(signingOut, Wait);

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
        var strategy = NewStrategy();
        var registry = await this.ProvidersAsync(strategy);
        var store = new InMemoryTokenStore();
        var flows = CreateTestProbe();
        var entity = CreateTestProbe().ChildActorOf(AccountsSupervisor.ForEntity(store, registry, flows.Ref, AccountTestSupport.Settings(), Alice,
            this.AccountsOver(store, registry, flows.Ref)));
        await Remember(entity, Alice, strategy.Issue("alice"));
        var signOut = entity.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.EndingProviderSession), Wait);
        var step = flows.FishForMessage<EndProviderSession>(_ => true, Wait);
        var signingOut = flows.LastSender;

        var refused = await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(entity, Alice, AccessTokenOptions.Interactive));
        var newLogin = strategy.Issue("alice");
        await Remember(entity, Alice, newLogin);

        Assert.Contains("signing out", refused.Message);
        Assert.Equal(newLogin.AccessToken, (await Get(entity, Alice, AccessTokenOptions.Interactive)).Token);
        signingOut.Tell(new ProviderSessionEnded(step.RequestId, ProviderSessionOutcome.Ended));
        await signOut;
    }
}
