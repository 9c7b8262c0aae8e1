using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Binding;
using O8Actors.Flows;
using O8Actors.Hosting;
using O8Actors.Runtime;

namespace O8Actors.Cluster;

/// <summary>
/// Server mode on an Akka.NET cluster: each login is a sharded entity, so a callback that lands on any node reaches its
/// login, and the outcome comes back to the node that began it.
/// <code>
/// services.AddOAuthLogins();
/// services.AddAkka("app", akka => akka
///     .WithClustering(...)            // formation: Akka.Management bootstrap + WithClusterBootstrapOnKestrel (or seed nodes)
///     .WithOAuthLogins()
///     .WithOAuthLoginsCluster());
/// app.MapOAuthCallback("/oauth/callback");   // on every node
/// </code>
/// </summary>
public static class O8ClusterHostingExtensions
{
    /// <summary>
    /// Runs server-mode logins as entities of a shard region (Akka.Cluster.Sharding): <c>IOAuthConnector.BeginAsync</c>
    /// and <c>MapOAuthCallback</c> on every node go through it. Call it beside <c>WithOAuthLogins()</c> on every node of
    /// the cluster, with <c>O8:Listener:ExternalRedirectUri</c> set (server mode) and one Data Protection key ring shared by all nodes.
    /// </summary>
    /// <param name="builder">The Akka.Hosting builder (clustering configured on it).</param>
    /// <param name="configure">Region name, number of shards, role.</param>
    public static AkkaConfigurationBuilder WithOAuthLoginsCluster(this AkkaConfigurationBuilder builder, Action<O8ClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new O8ClusterOptions();
        configure?.Invoke(options);
        if (string.IsNullOrWhiteSpace(options.RegionName))
            throw new ArgumentException($"{nameof(O8ClusterOptions)}.{nameof(O8ClusterOptions.RegionName)} must name the logins' shard region; it is empty.", nameof(configure));
        if (options.NumberOfShards < 1)
            throw new ArgumentOutOfRangeException(nameof(configure), options.NumberOfShards,
                $"{nameof(O8ClusterOptions)}.{nameof(O8ClusterOptions.NumberOfShards)} must be at least 1.");
        // At most a day, as a login's own timeout: a scheduler fires a delay near TimeSpan.MaxValue at once.
        if (options.BeginTimeout <= TimeSpan.Zero || options.BeginTimeout > AuthorizationRequest.MaximumTimeout)
            throw new ArgumentOutOfRangeException(nameof(configure), options.BeginTimeout,
                $"{nameof(O8ClusterOptions)}.{nameof(O8ClusterOptions.BeginTimeout)} must be longer than zero and at most one day, not {options.BeginTimeout}.");

        // Decided in configuration, so WithOAuthLogins routes every begin and callback here from its first one.
        // Accounts too: each is an entity of its own region, so one actor per account in the whole cluster.
        builder.AddHocon($"{ServerModeRoute.RoutedPath} = on\n{O8Actors.Runtime.O8Guardian.AccountsRoutedPath} = on", HoconAddMode.Prepend);
        // The split brain resolver (keep-majority) and a remoting frame that holds a login's outcome; the app's own HOCON wins.
        builder.AddHocon(ClusterDefaults.Config, HoconAddMode.Append);
        // Sharding's hand-off timeout and the leave phases, as long as a moving account or login may take to stop (the
        // default settings': this runs before DI binds the node's own; the start checks those, below). The app's HOCON wins.
        HandOffTimeouts.Defaults.AddTo(builder);
        builder.WithShardRegion<LoginShardRegionKey>(options.RegionName,
            (ActorSystem _, IActorRegistry _, Akka.DependencyInjection.IDependencyResolver resolver) =>
            {
                var node = NodeAsync(resolver.GetService<IServiceProvider>());
                return entityId => LoginEntity.Props(entityId, node);
            },
            new LoginMessageExtractor(options.NumberOfShards),
            new ShardOptions
            {
                Role = options.Role,
                // A login lives in memory only: an entity that stops is gone (its callback then gets the expired page).
                RememberEntities = false,
                // A login waits for its user, silently, for as long as its timeout (120 s by default, or more): sharding's
                // idle passivation (120 s by default) would stop it midway and lose it. The login ends by itself.
                ShouldPassivateIdleEntities = false,
                // Not a PoisonPill when the entity moves: a login whose code is at the provider finishes (its browser gets
                // its page, its caller the tokens) before the entity stops; sharding's hand-off timeout (HandOffTimeouts)
                // outlasts that.
                HandOffStopMessage = LoginHandOff.Instance,
                StateStoreMode = Akka.Cluster.Sharding.StateStoreMode.DData,
            });
        builder.WithShardRegion<AccountShardRegionKey>(AccountsRegionName,
            (ActorSystem _, IActorRegistry _, Akka.DependencyInjection.IDependencyResolver resolver) =>
            {
                var parts = AccountPartsAsync(Runtime(resolver.GetService<IServiceProvider>()));
                return entityId => AccountEntity.Props(entityId, parts);
            },
            new AccountMessageExtractor(options.NumberOfShards),
            new ShardOptions
            {
                Role = options.Role,
                RememberEntities = false,
                // An account nobody asks about goes to sleep when the core's account actor retires (o8's account idle
                // timeout): it passivates itself then (AccountRetiredInEntity). Not on sharding's idle timer, which would
                // also stop an account holding tokens the store has not taken yet (a rotated refresh token, lost) or a
                // sign-out whose removal is pending (its tokens read and served again by the next incarnation).
                ShouldPassivateIdleEntities = false,
                // Not a PoisonPill when the entity moves: a refresh under way finishes (and stores its rotated refresh
                // token) before the entity stops, within AccountSettings.HandOffWait, from which sharding's hand-off timeout
                // is derived (HandOffTimeouts).
                HandOffStopMessage = O8Actors.Accounts.AccountHandOff.Instance,
                StateStoreMode = Akka.Cluster.Sharding.StateStoreMode.DData,
            });
        builder.WithShardRegion<LogoutTokenGuardRegionKey>(LogoutTokensRegionName,
            (ActorSystem system, IActorRegistry _, Akka.DependencyInjection.IDependencyResolver _) =>
            {
                // Where a guard that moves leaves its memory, and where the next one finds it (one per node, before any guard starts).
                var handOvers = system.ActorOf(LogoutTokenHandOverStore.Props(system), "o8-logout-token-hand-overs");
                return provider => LogoutTokenGuardEntity.Props(provider, handOvers);
            },
            new LogoutTokenGuardMessageExtractor(options.NumberOfShards),
            new ShardOptions
            {
                Role = options.Role,
                RememberEntities = false,
                // The guard must outlive the tokens it remembers (minutes); it holds only a provider's recent token ids.
                ShouldPassivateIdleEntities = false,
                // Not a PoisonPill when the entity moves: it leaves what it accepted for its next incarnation first, so a
                // token replayed after a rebalance or a node's leave is still refused.
                HandOffStopMessage = LogoutTokenGuardHandOff.Instance,
                StateStoreMode = Akka.Cluster.Sharding.StateStoreMode.DData,
            });
        // Once per node, at start: an operator who runs remoting in plaintext off loopback learns it from the log.
        builder.WithActors((system, _) => PlaintextRemoting.WarnIfExposed(system));
        builder.WithActors(async (system, registry, resolver) =>
        {
            var region = await registry.GetAsync<LoginShardRegionKey>().ConfigureAwait(false);
            var elsewhere = new RegionOnAnotherNode(system, region, options.RegionName, options.Role);
            var node = NodeAsync(resolver.GetService<IServiceProvider>());
            var gateway = system.ActorOf(ClusterLoginGateway.Props(region, elsewhere.Find, options.BeginTimeout, node), "o8-cluster-gateway");
            registry.Register<ServerModeRouteKey>(gateway);
        });
        builder.WithActors((ActorStarterWithResolver)(async (system, registry, resolver) =>
        {
            // This node's accounts supervisor waits (o8.accounts.routed) until it knows its way to the region.
            var region = await registry.GetAsync<AccountShardRegionKey>().ConfigureAwait(false);
            // Registered before O8Actors has started here: a node that leaves hands its shards off whether or not it has.
            var gatewayRuns = new TaskCompletionSource<IActorRef>(TaskCreationOptions.RunContinuationsAsynchronously);
            HandOffAtLeave.Register(system, await registry.GetAsync<LoginShardRegionKey>().ConfigureAwait(false), region,
                await registry.GetAsync<ServerModeRouteKey>().ConfigureAwait(false), gatewayRuns.Task, options.Role);
            var logoutTokens = await registry.GetAsync<LogoutTokenGuardRegionKey>().ConfigureAwait(false);
            var runtime = Runtime(resolver.GetService<IServiceProvider>());
            runtime.NotReady = ClusterReadiness.Of(system);
            // Not awaited: Akka.Hosting runs its starters one after another, and WithOAuthLogins' own, which starts what
            // this waits for, may come after this one (WithOAuthLoginsCluster called first): the host's start would hang.
            _ = RouteAccountsAsync(system, runtime, region, logoutTokens, options.Role, gatewayRuns);
        }));
        return builder;
    }

    /// <summary>
    /// Once O8Actors has started on this node: makes the account gateway and routes the node's accounts through it. A start
    /// that fails, or never begins (no <c>WithOAuthLogins</c>), is logged; the node then has no accounts to route.
    /// </summary>
    private static async Task RouteAccountsAsync(ActorSystem system, O8Runtime runtime, IActorRef region, IActorRef logoutTokens, string? role,
        TaskCompletionSource<IActorRef> gatewayRuns)
    {
        try
        {
            var parts = await AccountPartsAsync(runtime).ConfigureAwait(false);
            // Against the settings this node runs with: a longer exchange-timeout, or timeouts set shorter by hand.
            HandOffTimeouts.WarnIfShort(system, parts.Settings);
            // An account's entity moves between nodes; tokens in one node's memory do not move with it.
            if (parts.StoreInMemory) InMemoryAccountsWarning.Log(system);
            var elsewhere = new RegionOnAnotherNode(system, region, AccountsRegionName, role);
            var logoutTokensElsewhere = new RegionOnAnotherNode(system, logoutTokens, LogoutTokensRegionName, role);
            var gateway = system.ActorOf(AccountGateway.Props(region, elsewhere.Find, logoutTokens, logoutTokensElsewhere.Find, parts.Settings),
                "o8-account-gateway");
            gatewayRuns.SetResult(gateway);
            parts.Node.Tell(new O8Actors.Accounts.RouteAccounts(gateway));
        }
        catch (Exception e)
        {
            // The gateway's task stays incomplete: a leave then switches the login gateway alone (HandOffAtLeave).
            // The start's own failure is reported by WithOAuthLogins; this says what it leaves undone here.
            system.Log.Error("O8Actors' accounts are not routed through the cluster on this node: {0}", e.Message);
        }
    }

    /// <summary>The accounts' shard region's type name.</summary>
    internal const string AccountsRegionName = "o8-accounts";

    /// <summary>The shard region's type name of the back-channel logout tokens' guards (one entity per provider).</summary>
    internal const string LogoutTokensRegionName = "o8-logout-tokens";

    private static O8Runtime Runtime(IServiceProvider services) => services.GetService<O8Runtime>()
        ?? throw new InvalidOperationException("WithOAuthLoginsCluster needs services.AddOAuthLogins(...) and WithOAuthLogins() in AddAkka.");

    /// <summary>What this node's account entities run with, once WithOAuthLogins has started O8Actors here.</summary>
    private static async Task<O8Actors.Accounts.AccountParts> AccountPartsAsync(O8Runtime runtime)
    {
        // Bounded while the start has not begun (no WithOAuthLogins): then it fails with what to add.
        var started = await runtime.GetAsync(CancellationToken.None).ConfigureAwait(false);
        return await started.Actors.Accounts.Ask<O8Actors.Accounts.AccountParts>(new O8Actors.Accounts.GetAccountParts(), TimeSpan.FromSeconds(30))
            .ConfigureAwait(false);
    }

    /// <summary>This node's parts for its entities, once WithOAuthLogins has started O8Actors here.</summary>
    private static Task<ClusterLoginNode> NodeAsync(IServiceProvider services)
    {
        var runtime = services.GetService<O8Runtime>()
            ?? throw new InvalidOperationException("WithOAuthLoginsCluster needs services.AddOAuthLogins(...) and WithOAuthLogins() in AddAkka.");
        var verifier = services.GetRequiredService<BrowserBindingVerifier>();
        var handler = services.GetService<IClusterLoginOutcomeHandler>();
        return WhenStartedAsync(runtime, verifier, handler);

        static async Task<ClusterLoginNode> WhenStartedAsync(O8Runtime runtime, BrowserBindingVerifier verifier, IClusterLoginOutcomeHandler? handler)
        {
            var started = await runtime.WhenStarted.ConfigureAwait(false);
            var redirect = started.Options.Listener.ExternalRedirectUri
                ?? throw new InvalidOperationException("WithOAuthLoginsCluster is for server mode: set O8:Listener:ExternalRedirectUri on every node.");
            return new ClusterLoginNode(started.Options.Login, started.Actors.Providers, verifier, redirect, handler,
                NodeShutdownToken.For(started.System))
            {
                FlowTemplate = FlowActor.Template(O8Dispatchers.FlowDispatcher(started.System)),
                Listener = started.Actors.Listener,
                RemoteFrameBytes = OutcomeFrame.FrameSize(started.System),
                RememberAccount = started.Client.WithAccountAsync,
            };
        }
    }
}

/// <summary>Registry key of the shard region that holds the accounts (one entity per account).</summary>
internal sealed class AccountShardRegionKey;

/// <summary>Registry key of the shard region that holds the logins: <c>IRequiredActor&lt;LoginShardRegionKey&gt;</c>.</summary>
public sealed class LoginShardRegionKey;
