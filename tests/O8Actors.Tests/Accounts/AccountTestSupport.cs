using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Providers;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// What the account tests set up alike: the login settings, the account settings, and the provider registry and accounts
/// supervisor an account's actor runs under.
/// </summary>
internal static class AccountTestSupport
{
    /// <summary>The login settings of the account tests (a 10-second token request timeout).</summary>
    public static readonly O8Settings.LoginSettings Login = new(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10), true, 100, 16);

    // Registering a provider is one message to a local actor: the wait only bounds a test that is broken.
    private static readonly TimeSpan RegisterWait = TimeSpan.FromSeconds(20);

    /// <summary>The account settings of the account tests: a 5-minute refresh margin unless <paramref name="margin"/> says otherwise.</summary>
    public static AccountSettings Settings(TimeSpan? margin = null, AccountCache? cache = null, bool serverMode = false) =>
        new(margin ?? TimeSpan.FromMinutes(5), Login.ExchangeTimeout, Login, cache) { ServerMode = serverMode };

    /// <summary>A provider registry with <paramref name="strategy"/> registered.</summary>
    public static async Task<IActorRef> ProvidersAsync(this TestKitBase kit, ProviderStrategy strategy)
    {
        var registry = kit.Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 32, Login.ExchangeTimeout));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), RegisterWait);
        return registry;
    }

    /// <summary>
    /// An accounts supervisor over <paramref name="store"/> whose accounts refresh through <paramref name="providers"/> (a
    /// registry, or a probe that plays one) and start interactive logins at <paramref name="flows"/> (by default a probe
    /// nobody reads).
    /// </summary>
    public static IActorRef AccountsOver(this TestKitBase kit, ITokenStore store, IActorRef providers, IActorRef? flows = null,
        AccountSettings? settings = null, string? name = null) =>
        kit.Sys.ActorOf(AccountsSupervisor.Props(store, providers, flows ?? kit.CreateTestProbe().Ref, settings ?? Settings()), name);

    /// <summary>An accounts supervisor over <paramref name="store"/> whose accounts refresh through a registry that holds <paramref name="strategy"/>.</summary>
    public static async Task<IActorRef> AccountsAsync(this TestKitBase kit, ProviderStrategy strategy, ITokenStore store, IActorRef? flows = null,
        AccountSettings? settings = null, string? name = null) =>
        kit.AccountsOver(store, await kit.ProvidersAsync(strategy), flows, settings, name);
}
