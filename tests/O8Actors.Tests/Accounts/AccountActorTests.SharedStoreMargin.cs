namespace O8Actors.Tests.Accounts;

/// <summary>
/// Two processes sharing a store, with tokens that live shorter than the refresh margin: a copy the other process stored
/// over the one this process held is served within its lifetime, not refreshed again.
/// </summary>
public sealed partial class AccountActorTests
{
    [Fact]
    public async Task Tokens_another_process_just_obtained_are_served_not_refreshed_again()
    {
        // 4-minute tokens, a 5-minute margin: tokens an account obtains itself are served for half their lifetime.
        var strategy = NewStrategy(lifetime: TimeSpan.FromMinutes(4));
        var shared = new InMemoryTokenStore();
        var one = await Accounts(strategy, shared, name: "accounts-one");
        var two = await Accounts(strategy, shared, name: "accounts-two");
        await Remember(one, Alice, strategy.Issue("alice"));                       // at-1, held by one
        Assert.Equal("at-2", (await Get(two, Alice)).Token);                     // first read: the whole margin, one early refresh

        // Half their lifetime on, each holds tokens due for renewal. One renews first: it reads at-2 (obtained no earlier
        // than it took at-1, so half-spent as well) and refreshes it.
        Clock.Advance(TimeSpan.FromMinutes(2.5));
        Assert.Equal("at-3", (await Get(one, Alice)).Token);
        Assert.Equal(2, strategy.Refreshes);

        // Two renews next: it reads at-3, stored over the at-2 it held, so obtained since; it has most of its life left.
        Assert.Equal("at-3", (await Get(two, Alice)).Token);
        Assert.Equal(2, strategy.Refreshes);
    }
}
