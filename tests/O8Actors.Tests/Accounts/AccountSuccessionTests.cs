using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;

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
}
