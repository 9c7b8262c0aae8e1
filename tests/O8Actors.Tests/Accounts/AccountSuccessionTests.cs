using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// An account's actor gives way to the next one: it retires when idle, or it stops while a login it started runs on. Only
/// the actor the account is routed to may take the route away (a late word from an earlier one must leave it be, else
/// two actors renew one account's tokens), and a login that outlived its actor keeps its tokens with the next.
/// </summary>
public sealed class AccountSuccessionTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly OAuthAccount Alice = new("p", "alice");
    private static readonly OAuthAccount Bob = new("p", "bob");

    private RotatingStrategy NewStrategy() => new("p", () => Sys.Scheduler.Now);

    [Fact]
    public async Task A_retirement_from_an_actor_the_account_is_no_longer_routed_to_leaves_the_live_actor_in_place()
    {
        var strategy = NewStrategy();
        var accounts = await this.AccountsAsync(strategy, new InMemoryTokenStore());
        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, strategy.Issue("alice")), Wait);
        var live = (await Sys.ActorSelection(accounts.Path / "*").Ask<ActorIdentity>(new Identify(1), Wait)).Subject!;

        CreateTestProbe().Send(accounts, new AccountActor.Forgotten(Alice));
        Assert.False(string.IsNullOrEmpty((await accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), Wait)).Token));

        var identities = CreateTestProbe();
        Sys.ActorSelection(accounts.Path / "*").Tell(new Identify(2), identities.Ref);
        Assert.Equal(live, identities.ExpectMsg<ActorIdentity>(Wait).Subject);
        identities.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }

    /// <summary>
    /// An actor retired for idleness (not signed out) that still gets the remember of a login which outlived an earlier
    /// actor, before its parent has routed the account elsewhere: it refused it as if the account had been signed out,
    /// revoking the tokens and telling the caller so. It sends it back to its parent, as anything else it still gets.
    /// </summary>
    [Fact]
    public async Task An_actor_retired_for_idleness_passes_an_outlived_logins_remember_on_instead_of_refusing_it_as_signed_out()
    {
        var strategy = NewStrategy();
        var store = new InMemoryTokenStore();
        var providers = CreateTestProbe();
        var parent = CreateTestProbe();
        var settings = AccountTestSupport.Settings() with { IdleTimeout = TimeSpan.FromMilliseconds(200) };
        var actor = parent.ChildActorOf(AccountActor.Props(Alice, store, providers.Ref, CreateTestProbe().Ref, settings, parent.Ref));
        parent.ExpectMsg<AccountActor.Forgotten>(Wait); // idle: retired, its parent not yet done with it
        var outlived = new RememberLogin(Alice, strategy.Issue("alice")) { OrphanedOver = 1 };
        var caller = CreateTestProbe();

        caller.Send(actor, outlived);

        Assert.Same(outlived, parent.ExpectMsg<RememberLogin>(Wait));
        caller.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // nothing revoked
    }

    [Fact]
    public async Task A_login_that_outlived_its_accounts_actor_is_kept_when_the_store_fails_even_if_its_remember_came_through_an_ask()
    {
        // On a cluster the remember of such a login reaches the account through its entity's ask: a real sender, but no
        // caller waits for it. Its tokens exist nowhere else, so a failing store must not drop them.
        var strategy = NewStrategy();
        var store = new FlakyTokenStore();
        var accounts = await this.AccountsAsync(strategy, store);
        store.FailSaves(1);
        var approved = strategy.Issue("alice");

        CreateTestProbe().Send(accounts, new RememberLogin(Alice, approved) { OrphanedOver = 0 });

        var served = await accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), Wait);
        Assert.Equal(approved.AccessToken, served.Token);
    }

    /// <summary>
    /// Alice's renewal login comes back as Bob: Bob's tokens are remembered for him, and nobody waits for that answer, so
    /// they are kept in memory should his store fail, also when the remember reaches his account through an ask (his
    /// cluster entity's). Before, the ask's sender counted as a caller holding the tokens: they were neither stored, kept
    /// nor revoked, a live refresh token held by nobody.
    /// </summary>
    [Fact]
    public async Task A_login_that_signed_in_another_account_is_kept_when_the_store_fails_even_if_its_remember_came_through_an_ask()
    {
        var strategy = NewStrategy();
        var registry = await this.ProvidersAsync(strategy);
        var flows = CreateTestProbe();
        var elsewhere = CreateTestProbe();
        var alices = Sys.ActorOf(AccountsSupervisor.ForEntity(new InMemoryTokenStore(), registry, flows.Ref, AccountTestSupport.Settings(), Alice, elsewhere.Ref));
        Assert.Equal(Alice, (await alices.Ask<LoginRemembered>(new RememberLogin(Alice, strategy.Issue("alice")), Wait)).Account);
        strategy.RevokeAll();
        var caller = alices.Ask<object>(new GetAccessToken(Alice, null, new AccessTokenOptions(AllowInteraction: true, ForceRefresh: true)), Wait);
        var start = flows.ExpectMsg<StartFlow>(Wait);

        var bobsTokens = strategy.Issue("bob");
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, bobsTokens));

        var remember = elsewhere.ExpectMsg<RememberLogin>(Wait);
        Assert.Equal(Bob, remember.Account);
        var store = new FlakyTokenStore();
        var bobs = await this.AccountsAsync(strategy, store);
        store.FailSaves(1);
        _ = bobs.Ask<object>(remember, Wait); // as Bob's entity asks for it: a real sender, but nobody waits behind it
        var served = await bobs.Ask<AccessToken>(new GetAccessToken(Bob, null, AccessTokenOptions.Silent), Wait);
        Assert.Equal(bobsTokens.AccessToken, served.Token);
        Assert.Equal(InteractionReason.AccountMismatch, (await Assert.ThrowsAsync<InteractionRequiredException>(() => caller)).Reason);
    }

    /// <summary>
    /// A dispose or host stop hands every account off and waits for each to stop. An account not running by then gets no
    /// actor (told O8Actors is stopping): made now, it would hold the stop up (it retires only when idle) and could start a
    /// refresh the system then cuts off, the very loss the settling prevents. The one under way finishes.
    /// </summary>
    [Fact]
    public async Task While_the_accounts_are_settled_for_a_stop_an_account_not_running_gets_no_actor()
    {
        var strategy = NewStrategy();
        var accounts = await this.AccountsAsync(strategy, new InMemoryTokenStore());
        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, strategy.Issue("alice")), Wait);
        strategy.Hold();
        var refreshing = accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, new AccessTokenOptions(ForceRefresh: true)), Wait);
        await AwaitConditionAsync(() => Task.FromResult(strategy.Refreshes == 1), Wait, Polling.Interval);

        accounts.Tell(AccountHandOff.Instance);
        var refused = await Assert.ThrowsAsync<ObjectDisposedException>(() => accounts.Ask<AccessToken>(new GetAccessToken(Bob, null, AccessTokenOptions.Silent), Wait));
        strategy.Release();

        Assert.Contains("stopping", refused.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty((await refreshing).Token));
    }
}
