using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Hosting;
using O8Actors.Persistence.Registers;

namespace O8Actors.Persistence;

/// <summary>
/// Server-mode persistence of the accounts' tokens through Akka.Persistence and Akka.Persistence.Sql:
/// <code>
/// services.AddOAuthLogins();
/// services.AddAkka("app", (akka, sp) => akka
///     .WithOAuthLogins()
///     .WithOAuthAccountsPersistence(o => o.FromConfiguration(sp.GetRequiredService&lt;IConfiguration&gt;())));
/// </code>
/// </summary>
public static class O8PersistenceHostingExtensions
{
    /// <summary>
    /// Keeps the accounts' tokens in a database (SQLite in the app data folder by default, or PostgreSQL), encrypted
    /// with Data Protection, through a journal plugin of O8Actors' own (<see cref="O8PersistenceOptions.PluginId"/>):
    /// the app's default Akka.Persistence plugin, if any, is left alone. Tables are created on first use. Outside a
    /// cluster a SQLite file is locked for this actor system while it runs: a second process (or actor system) on the
    /// same file waits for it to stop (<see cref="O8PersistenceOptions.DatabaseLockWait"/>, 10 s by default), then fails its start. A PostgreSQL database is not locked: two
    /// processes outside a cluster must not share one (each needs its own database, or they must be one cluster).
    /// </summary>
    public static AkkaConfigurationBuilder WithOAuthAccountsPersistence(this AkkaConfigurationBuilder builder, Action<O8PersistenceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new O8PersistenceOptions();
        configure?.Invoke(options);
        var plugins = AddJournal(builder, options);
        builder.Setups.Add(new TokenStoreSetup((system, services) =>
        {
            RequireConfigurationRead(options, services);
            RequireOneAccountActorPerAccount(system);
            PerNodeStoreWarning.LogAtStart(system, options);
            DatabaseLock.TakeIfLocal(system, options, Database(options).Connection);
            return new PersistentTokenStore(RegistersIn(system, plugins, options), DataProtectionFor(options, services), options.Timeout,
                Akka.Event.Logging.GetLogger(system, typeof(PersistentTokenStore)));
        }));
        return builder;
    }

    /// <summary>
    /// The app's configuration sets <c>O8:Persistence</c>, which only <see cref="O8PersistenceOptions.FromConfiguration"/>
    /// reads: options that did not read it would put the tokens in the default SQLite database without a word (where a
    /// PostgreSQL connection was configured, say).
    /// </summary>
    /// <exception cref="InvalidOperationException">The section is set and these options never read it.</exception>
    internal static void RequireConfigurationRead(O8PersistenceOptions options, IServiceProvider services)
    {
        // Read, and the section the app's settings are in: an app that moved its O8 section and read the default one
        // (O8:Persistence, as the README's line does) has its settings ignored all the same.
        if (TokenStoreSetup.ConfiguredPersistenceSection(services) is not { } section
            || string.Equals(options.SectionRead, section, StringComparison.OrdinalIgnoreCase))
            return;
        throw new InvalidOperationException(
            $"The configuration sets {section}, but WithOAuthAccountsPersistence was not given it, so its settings would be " +
            $"ignored (the tokens going to the default SQLite database): call WithOAuthAccountsPersistence(o => o.FromConfiguration({TokenStoreSetup.ReadArguments(section)})).");
    }

    /// <summary>
    /// On a cluster, the store's refresh lock (<see cref="ITokenStore.LockAsync"/>, the process's) holds across the
    /// cluster only because O8Actors.Cluster runs each account's actor on one node. Without it every node would run its
    /// own, and two nodes could spend one refresh token at once: a provider that detects reuse then revokes the grant.
    /// </summary>
    /// <exception cref="InvalidOperationException">The system is a cluster whose accounts are not O8Actors.Cluster's.</exception>
    internal static void RequireOneAccountActorPerAccount(ActorSystem system)
    {
        if (((ExtendedActorSystem)system).Provider is not Akka.Cluster.IClusterActorRefProvider) return;
        var config = system.Settings.Config;
        if (config.HasPath(O8Actors.Runtime.O8Guardian.AccountsRoutedPath) && config.GetBoolean(O8Actors.Runtime.O8Guardian.AccountsRoutedPath)) return;
        throw new InvalidOperationException(
            "WithOAuthAccountsPersistence on an Akka.NET cluster needs O8Actors.Cluster's accounts: add WithOAuthLoginsCluster(...). " +
            "Without it every node runs its own actor for an account, and the store's refresh lock, which is per process, would let " +
            "two nodes spend one refresh token at once (a provider that detects reuse then revokes the whole grant).");
    }

    /// <summary>
    /// The registers' entry: in a cluster a shard region (Akka.Persistence allows one writer per persistence id, and the
    /// nodes share the database, so each account's register must run on one node only), otherwise a local parent.
    /// </summary>
    private static Task<IActorRef> RegistersIn(ActorSystem system, PersistencePlugins plugins, O8PersistenceOptions options)
    {
        // A register that stops with requests it never took (its recovery failed) sends them to dead letters: answered
        // from there with a failure, not left to the store's timeout.
        system.ActorOf(UndeliveredRegisterMessages.Props(), UndeliveredRegisterMessages.Name);
        if (((ExtendedActorSystem)system).Provider is not Akka.Cluster.IClusterActorRefProvider)
            return Task.FromResult(system.ActorOf(TokenRegisters.Props(plugins, options.RegisterIdleTimeout), TokenRegisters.Name));
        // The coordinator's state in Distributed Data, as O8Actors.Cluster's regions keep theirs. Sharding's default is a
        // persistent coordinator on the default journal, which is Akka's in-memory one: when the oldest node left, the
        // next coordinator recovered nothing and allocated again shards that live regions still hosted, so one account
        // had two registers (two writers of one persistence id), one of them serving a spent refresh token.
        var settings = Akka.Cluster.Sharding.ClusterShardingSettings.Create(system).WithRememberEntities(false)
            .WithStateStoreMode(Akka.Cluster.Sharding.StateStoreMode.DData);
        if (options.ClusterRole is { Length: > 0 } role) settings = settings.WithRole(role);
        // Sharding passivates idle registers itself: no idle timeout of their own. A register handed off (or passivated)
        // mid-write stops after answering it (RegisterStop), not at once as with the default PoisonPill.
        var sharding = Akka.Cluster.Sharding.ClusterSharding.Get(system);
        return sharding.StartAsync(RegistersRegionName,
            id => id == AccountIndex.EntityId ? AccountIndex.Props(plugins) : TokenRegisterActor.Props(id, plugins, idleTimeout: null),
            settings, new RegisterMessageExtractor(options.NumberOfShards), sharding.DefaultShardAllocationStrategy(settings), RegisterStop.Instance);
    }

    /// <summary>The registers' shard region's type name (in a cluster).</summary>
    internal const string RegistersRegionName = TokenRegisters.Name;

    /// <summary>Adds the SQL journal and snapshot store under the plugin id, and our serializer; returns the plugin ids.</summary>
    internal static PersistencePlugins AddJournal(AkkaConfigurationBuilder builder, O8PersistenceOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.PluginId, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Timeout, TimeSpan.Zero, nameof(options));
        var (connection, provider) = Database(options);
        builder.WithSqlPersistence(
            new SqlJournalOptions(isDefaultPlugin: false, identifier: options.PluginId)
            {
                ConnectionString = connection,
                ProviderName = provider,
                AutoInitialize = true,
            },
            new SqlSnapshotOptions(isDefaultPlugin: false, identifier: options.PluginId)
            {
                ConnectionString = connection,
                ProviderName = provider,
                AutoInitialize = true,
            });
        builder.WithCustomSerializer("o8-tokens", TokenRegisterSerializer.Types, system => new TokenRegisterSerializer(system));
        // A register that cannot recover (the database is down: the SQL journal keeps retrying its start, and the read
        // never comes) gives up within the store's timeout, not Akka's 30 s, and its callers hear why instead of a bare
        // timeout (UndeliveredRegisterMessages).
        builder.AddHocon($"akka.persistence.journal.{options.PluginId}.recovery-event-timeout = {(long)RecoveryTimeout(options.Timeout).TotalMilliseconds}ms",
            HoconAddMode.Prepend);
        return new PersistencePlugins($"akka.persistence.journal.{options.PluginId}", $"akka.persistence.snapshot-store.{options.PluginId}");
    }

    /// <summary>
    /// How long a register waits for each step of its recovery (its snapshot, each event): two thirds of the store's
    /// <paramref name="timeout"/>, so a recovery that will not finish fails while the request that started it still waits.
    /// </summary>
    internal static TimeSpan RecoveryTimeout(TimeSpan timeout) => timeout * 2 / 3;

    private static (string Connection, string Provider) Database(O8PersistenceOptions options)
    {
        switch (options.Database)
        {
            case O8PersistenceDatabase.Sqlite:
                if (options.EffectiveConnectionString is { Length: > 0 } sqlite) return (sqlite, LinqToDB.ProviderName.SQLiteMS);
                var file = options.SqliteFile;
                O8Actors.Accounts.PrivateFiles.CreateFolder(Path.GetDirectoryName(file)!);
                return ($"Data Source={file}", LinqToDB.ProviderName.SQLiteMS);
            case O8PersistenceDatabase.PostgreSql:
                if (options.ConnectionString is not { Length: > 0 } postgres)
                    throw new ArgumentException("PostgreSQL needs a ConnectionString (O8:Persistence:ConnectionString or ConnectionStringName).", nameof(options));
                return (postgres, LinqToDB.ProviderName.PostgreSQL15);
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Database, "Unknown database.");
        }
    }

    internal static IDataProtectionProvider DataProtectionFor(O8PersistenceOptions options, IServiceProvider services)
    {
        if (options.DataProtection is { } given) return given;
        if (options.UseAppDataProtection)
            return (IDataProtectionProvider?)services.GetService(typeof(IDataProtectionProvider))
                ?? throw new InvalidOperationException("UseAppDataProtection needs services.AddDataProtection() (AddOAuthLogins adds it).");
        // The file token store's key ring, in its own folder: 0700 and key files 0600 on Linux and macOS; DPAPI on Windows
        // only in the default folder, since a folder the app names may be shared by several machines of a cluster.
        return O8Actors.Accounts.PrivateKeyRing.Create(
            options.KeyRingFolder ?? Path.Combine(O8PersistenceOptions.DataFolder, "keys"), "O8Actors.Persistence",
            namedByTheApp: options.KeyRingFolder is not null);
    }
}
