using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// Two live <see cref="OAuthFlow"/>s of one <c>CacheName</c> share a provider name; when the one whose strategy is
/// registered goes, the other takes the name over. In one step at the registry: taken off and registered again in two,
/// a login or refresh of the surviving flow that came in between found the name unknown.
/// </summary>
public sealed class ProviderHandOverTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private IActorRef Registry() => Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));

    private async Task<IActorRef> RegistryWith(params ProviderStrategy[] strategies)
    {
        var registry = Registry();
        foreach (var strategy in strategies) await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait);
        return registry;
    }

    /// <summary>The access token a refresh through the registry gets: its prefix names the strategy that answered.</summary>
    private string RefreshedBy(IActorRef registry)
    {
        registry.Tell(new RefreshTokens("shared", "r1", "rt", null));
        return ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken;
    }

    [Fact]
    public async Task A_successor_takes_the_name_over_in_the_same_step_so_the_next_request_finds_it()
    {
        var leaving = new ScriptedStrategy("shared", "leaving") { Gated = false };
        var staying = new ScriptedStrategy("shared", "staying") { Gated = false };
        var registry = await RegistryWith(leaving);

        registry.Tell(new UnregisterProvider(leaving, Successor: staying));
        // Sent right after, so handled right after: no step in between where the name is unknown.
        registry.Tell(new GetRedirectPath("shared"));

        Assert.True(ExpectMsg<ProviderUnregistered>(Wait).Removed);
        Assert.Equal("/shared", ExpectMsg<RedirectPathIs>(Wait).Path);
        Assert.Equal("staying-rt", RefreshedBy(registry));
    }

    [Fact]
    public async Task Without_a_successor_the_name_goes()
    {
        var leaving = new ScriptedStrategy("shared", "leaving") { Gated = false };
        var registry = await RegistryWith(leaving);

        registry.Tell(new UnregisterProvider(leaving));
        Assert.True(ExpectMsg<ProviderUnregistered>(Wait).Removed);

        registry.Tell(new RefreshTokens("shared", "r1", "rt", null));
        Assert.Equal(LoginFailure.UnknownProvider, ExpectMsg<CodeExchangeFailed>(Wait).Failure);
    }

    [Fact]
    public async Task A_name_registered_since_by_another_strategy_stays_and_the_successor_is_not_registered()
    {
        var leaving = new ScriptedStrategy("shared", "leaving") { Gated = false };
        var newer = new ScriptedStrategy("shared", "newer") { Gated = false };
        var registry = await RegistryWith(leaving, newer);

        registry.Tell(new UnregisterProvider(leaving, Successor: new ScriptedStrategy("shared", "successor") { Gated = false }));

        Assert.False(ExpectMsg<ProviderUnregistered>(Wait).Removed);
        Assert.Equal("newer-rt", RefreshedBy(registry));
    }

    [Fact]
    public async Task A_successor_of_another_name_is_not_registered_under_either()
    {
        var leaving = new ScriptedStrategy("shared", "leaving") { Gated = false };
        var registry = await RegistryWith(leaving);

        registry.Tell(new UnregisterProvider(leaving, Successor: new ScriptedStrategy("other") { Gated = false }));
        Assert.True(ExpectMsg<ProviderUnregistered>(Wait).Removed);

        registry.Tell(new GetRedirectPath("shared"));
        ExpectMsg<Status.Failure>(Wait);
        registry.Tell(new GetRedirectPath("other"));
        ExpectMsg<Status.Failure>(Wait);
    }
}
