using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Providers;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// An idle account's actor retires by telling its supervisor it is forgotten; only the actor the account is routed to may
/// take the route away. A late word from another (an actor retired before, whose message arrives after its successor
/// took over) must leave the route be: else the next request starts a second actor beside the live one, and two actors
/// renew one account's tokens.
/// </summary>
public sealed class AccountRetirementTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly OAuthAccount Alice = new("p", "alice");
    private static readonly O8Settings.LoginSettings Login = new(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10), true, 100, 16);

    [Fact]
    public async Task A_retirement_from_an_actor_the_account_is_no_longer_routed_to_leaves_the_live_actor_in_place()
    {
        var strategy = new RotatingStrategy("p", () => Sys.Scheduler.Now);
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 32, Login.ExchangeTimeout));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait);
        var accounts = Sys.ActorOf(AccountsSupervisor.Props(new InMemoryTokenStore(), registry, CreateTestProbe().Ref,
            new AccountSettings(TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login)));
        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, strategy.Issue("alice")), Wait);
        var live = (await Sys.ActorSelection(accounts.Path / "*").Ask<ActorIdentity>(new Identify(1), Wait)).Subject!;

        CreateTestProbe().Send(accounts, new AccountActor.Forgotten(Alice));
        Assert.False(string.IsNullOrEmpty((await accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), Wait)).Token));

        var identities = CreateTestProbe();
        Sys.ActorSelection(accounts.Path / "*").Tell(new Identify(2), identities.Ref);
        Assert.Equal(live, identities.ExpectMsg<ActorIdentity>(Wait).Subject);
        identities.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }
}
