using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Flows;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// An account's interactive login runs in the flows supervisor, not under the account's actor, and may wait for its user
/// for many minutes. When the account's actor stops meanwhile (its cluster entity moves to another node, or it fails),
/// the login goes on: the user who approves it is signed in, the account remembered by its next actor, and the callers
/// that waited are served. Before, its tokens went to dead letters (a live refresh token left at the provider with
/// nobody holding it), its callers failed, and a moving account held its whole shard until its hand-off deadline.
/// </summary>
public sealed partial class AccountActorTests
{
    /// <summary>
    /// Alice's account as a cluster entity runs it: signed in once, then her refresh token revoked at the provider, so an
    /// interactive caller starts a login (which the test plays through <c>Flows</c>). <c>Next</c> is where the account's
    /// messages go once the entity has moved: the account on its next node, over the same store.
    /// </summary>
    private async Task<(RotatingStrategy Strategy, InMemoryTokenStore Store, IActorRef Entity, IActorRef Next, TestProbe Flows, TestProbe NextFlows)>
        EntityWhoseRefreshIsRefusedAsync()
    {
        var strategy = NewStrategy();
        var registry = await this.ProvidersAsync(strategy);
        var store = new InMemoryTokenStore();
        var flows = CreateTestProbe();
        var nextFlows = CreateTestProbe();
        var next = this.AccountsOver(store, registry, nextFlows.Ref);
        var entity = Sys.ActorOf(AccountsSupervisor.ForEntity(store, registry, flows.Ref, AccountTestSupport.Settings(), Alice, next));
        await Remember(entity, Alice, strategy.Issue("alice"));
        Clock.Advance(TimeSpan.FromHours(1));
        strategy.RevokeAll();
        return (strategy, store, entity, next, flows, nextFlows);
    }

    /// <summary>An interactive caller of <paramref name="entity"/>'s account starts a login, and the account moves while its user is at the provider.</summary>
    private (Task<AccessToken> Caller, StartFlow Start) LoginOutlivingTheEntity(IActorRef entity, TestProbe flows)
    {
        var caller = Get(entity, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        Watch(entity);
        entity.Tell(AccountHandOff.Instance);
        ExpectTerminated(entity, Wait);
        return (caller, start);
    }

    /// <summary>
    /// An interactive caller (that may cancel by <paramref name="cancellation"/>) starts a login, and the account's actor
    /// throws while its user is at the provider: its supervisor stops it.
    /// </summary>
    private (Task<AccessToken> Caller, StartFlow Start) LoginOutlivingAFailedActor(IActorRef accounts, TestProbe flows, CancellationToken cancellation = default)
    {
        var caller = accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Interactive) { CallerCancellation = cancellation }, Wait,
            cancellation);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var account = flows.LastSender;
        Watch(account);
        account.Tell(Kill.Instance);
        ExpectTerminated(account, Wait);
        return (caller, start);
    }

    [Fact]
    public async Task A_login_under_way_when_the_account_moves_lets_it_move_at_once_and_signs_it_in_on_its_next_node()
    {
        var (strategy, store, entity, next, flows, nextFlows) = await EntityWhoseRefreshIsRefusedAsync();
        var caller = Get(entity, Alice, AccessTokenOptions.Interactive);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var account = flows.LastSender;
        Watch(account);
        Watch(entity);

        // A node joins and the account's shard moves while the user is still at the provider.
        entity.Tell(AccountHandOff.Instance);

        // At once, not at its hand-off deadline (HandOffWait, 115 s by default; the clock does not move here): sharding
        // holds every message of the shard until its entities have stopped.
        // Both, in either order: each watch is told by its own actor, and two senders' messages keep no order between them.
        var stopped = ReceiveN(2, Wait).Cast<Terminated>().Select(t => t.ActorRef).ToHashSet();
        Assert.Equal(new HashSet<IActorRef> { account, entity }, stopped);
        Assert.False(caller.IsCompleted); // it waits for the login, which goes on

        // The user approves.
        var signedIn = strategy.Issue("alice");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, signedIn));

        // The caller gets the login's token, the account's next actor has stored it, and serves it without a second login.
        Assert.Equal(signedIn.AccessToken, (await caller).Token);
        Assert.Equal(signedIn.RefreshToken, (await store.LoadAsync(Alice))!.Tokens.RefreshToken);
        Assert.Equal(signedIn.AccessToken, (await Get(next, Alice)).Token);
        nextFlows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, strategy.Refreshes); // the refused one only
    }

    [Fact]
    public async Task A_login_the_user_denies_after_the_account_moved_is_reported_to_its_callers()
    {
        var (_, store, entity, _, flows, _) = await EntityWhoseRefreshIsRefusedAsync();
        var (caller, start) = LoginOutlivingTheEntity(entity, flows);

        start.Completion!.SetResult(new LoginDenied(start.LoginId, "access_denied", null));

        // What the login came to, as if the account had not moved; not that its actor stopped.
        Assert.Equal("access_denied", (await Assert.ThrowsAsync<AuthorizationDeniedException>(() => caller)).Error);
        Assert.Equal("rt-1", (await store.LoadAsync(Alice))!.Tokens.RefreshToken);
    }

    [Fact]
    public async Task A_login_under_way_when_the_accounts_actor_fails_signs_the_account_in_and_serves_its_caller()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var (caller, start) = LoginOutlivingAFailedActor(accounts, flows);
        var signedIn = strategy.Issue("alice");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, signedIn));

        // The user who approved is signed in: the caller is served, and the account's next actor reads the login's tokens
        // from the store.
        Assert.Equal(signedIn.AccessToken, (await caller).Token);
        Assert.Equal(signedIn.AccessToken, (await Get(accounts, Alice)).Token);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // no second login
    }

    [Fact]
    public async Task A_login_that_outlived_its_failed_actor_is_cancelled_when_its_caller_cancels()
    {
        var (_, flows, accounts) = await RefreshRefusedAsync();
        using var cancel = new CancellationTokenSource();
        var (caller, start) = LoginOutlivingAFailedActor(accounts, flows, cancel.Token);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // it goes on for its caller

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller);
        // Nobody waits: cancelled where it runs, as the actor cancels a login whose callers have all cancelled.
        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
    }

    [Fact]
    public async Task A_login_that_outlived_its_failed_actor_is_cancelled_once_its_last_caller_has_gone_and_only_then()
    {
        var (_, flows, accounts) = await RefreshRefusedAsync();
        using var cancel = new CancellationTokenSource();
        var starter = accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, InteractiveWithin(TimeSpan.FromMinutes(10))) { CallerCancellation = cancel.Token },
            Wait, cancel.Token);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var account = flows.LastSender;
        var joiner = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(1)));
        await AccountHasTakenAsync(accounts);
        Watch(account);
        account.Tell(Kill.Instance);
        ExpectTerminated(account, Wait);

        // The joiner's own wait passes: it is told, and the login goes on for its starter.
        Clock.Advance(TimeSpan.FromMinutes(1) + ExchangeTime);
        await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => joiner.WaitAsync(Wait));
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // The starter cancels too: nobody waits now, and the login is cancelled, once.
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starter);
        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
        start.Completion!.SetResult(new LoginCancelled(start.LoginId));
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_sign_out_after_the_account_moved_is_not_undone_when_the_user_then_approves_the_login()
    {
        var (strategy, store, entity, next, flows, nextFlows) = await EntityWhoseRefreshIsRefusedAsync();
        var (caller, start) = LoginOutlivingTheEntity(entity, flows);

        // The app signs the account out on its next node (which knows nothing of the login); then the user approves.
        await next.Ask<SignOutResult>(new SignOut(Alice, SignOutOptions.Local), Wait);
        var approved = strategy.Issue("alice");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, approved));

        // The sign-out stands: the caller is told, nothing is stored, and the login's tokens are revoked at the provider.
        var refused = await Assert.ThrowsAsync<InteractionRequiredException>(() => caller);
        Assert.Equal(InteractionReason.NoAccount, refused.Reason);
        Assert.Contains("signed out", refused.Message, StringComparison.Ordinal);
        Assert.Null(await store.LoadAsync(Alice));
        await AwaitAssertAsync(() => Assert.Contains(strategy.Revoked, r => r.Token == approved.RefreshToken), Wait);
        nextFlows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // and no browser opened for the caller
    }

    [Fact]
    public async Task A_sign_out_after_the_accounts_actor_failed_is_not_undone_when_the_user_then_approves_the_login()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var (caller, start) = LoginOutlivingAFailedActor(accounts, flows);

        await SignOutAlice(accounts);
        var approved = strategy.Issue("alice");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, approved));

        Assert.Equal(InteractionReason.NoAccount, (await Assert.ThrowsAsync<InteractionRequiredException>(() => caller)).Reason);
        Assert.Equal(InteractionReason.NoAccount, (await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice))).Reason);
        await AwaitAssertAsync(() => Assert.Contains(strategy.Revoked, r => r.Token == approved.RefreshToken), Wait);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// As above, with the store failing as the account's next actor takes the login in: it kept the login's tokens blind
    /// (it could not read the store to see the sign-out), served them to the caller and stored them once the store was
    /// back, signing the user in again after the sign-out.
    /// </summary>
    [Fact]
    public async Task A_sign_out_is_not_undone_by_a_login_that_outlived_its_actor_when_the_store_fails_as_the_login_is_taken_in()
    {
        var store = new FlakyTokenStore();
        var (strategy, flows, accounts) = await RefreshRefusedAsync(store: store);
        var (caller, start) = LoginOutlivingAFailedActor(accounts, flows);

        await SignOutAlice(accounts);
        store.FailLoads(1);
        var approved = strategy.Issue("alice");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, approved));

        var refused = await Assert.ThrowsAnyAsync<OAuthFlowException>(() => caller);
        Assert.DoesNotContain(approved.AccessToken!, refused.Message);
        // Whatever retries there are, the sign-out stands: nothing is stored, nothing served, the login's tokens revoked.
        Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(InteractionReason.NoAccount, (await Assert.ThrowsAsync<InteractionRequiredException>(() => Get(accounts, Alice))).Reason);
        Assert.Null(await store.Inner.LoadAsync(Alice));
        await AwaitAssertAsync(() => Assert.Contains(strategy.Revoked, r => r.Token == approved.RefreshToken), Wait);
    }

    [Fact]
    public async Task A_login_approved_after_the_account_moved_ends_the_second_login_its_next_node_started_and_serves_both_callers()
    {
        var (strategy, store, entity, next, flows, nextFlows) = await EntityWhoseRefreshIsRefusedAsync();
        var (first, start) = LoginOutlivingTheEntity(entity, flows);

        // On its next node the account knows nothing of the login: a caller opens a second one (a second browser tab).
        var second = Get(next, Alice, AccessTokenOptions.Interactive);
        var secondStart = nextFlows.ExpectMsg<StartFlow>(Wait);

        // The user approves the first: the second is no longer needed, and nobody waits for it (or for its timeout).
        var approved = strategy.Issue("alice");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, approved));

        Assert.Equal(secondStart.LoginId, nextFlows.ExpectMsg<CancelFlow>(Wait).LoginId);
        Assert.Equal(approved.AccessToken, (await first).Token);
        Assert.Equal(approved.AccessToken, (await second).Token);
        Assert.Equal(approved.RefreshToken, (await store.LoadAsync(Alice))!.Tokens.RefreshToken);
        // Its cancellation's outcome, when it comes, changes nothing.
        secondStart.Completion!.SetResult(new LoginCancelled(secondStart.LoginId));
        Assert.Equal(approved.AccessToken, (await Get(next, Alice)).Token);
    }
}
