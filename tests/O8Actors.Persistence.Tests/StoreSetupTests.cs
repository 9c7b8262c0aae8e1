using Akka.Actor;
using Warning = Akka.Event.Warning;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O8Actors.Hosting;

using O8Actors.Persistence.Tests.Support;

namespace O8Actors.Persistence.Tests;

/// <summary>How the store is switched on: one store only, and a clear error for a missing PostgreSQL connection string.</summary>
public sealed class StoreSetupTests
{
    [Fact]
    public async Task An_ITokenStore_in_DI_beside_WithOAuthAccountsPersistence_fails_the_start_with_a_clear_message()
    {
        var (resolved, error) = await ResolveStoreAsync("o8-two-stores", akka => akka,
            services => services.AddSingleton<ITokenStore>(new InMemoryTokenStore()));

        Assert.Null(resolved);
        Assert.Contains("Two token stores are configured", Assert.IsType<InvalidOperationException>(error).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The app configures <c>O8:Persistence</c> (a PostgreSQL connection, say) and calls WithOAuthAccountsPersistence without
    /// reading it: the tokens went to the default SQLite database without a word. An app that moved its O8 section
    /// (AddOAuthLogins' ConfigurationSection) has its persistence section checked there.
    /// </summary>
    [Theory]
    [InlineData("O8", false, "o => o.FromConfiguration(configuration)")]
    [InlineData("Auth", false, "o => o.FromConfiguration(configuration, \"Auth:Persistence\")")]
    [InlineData("Auth", true, "o => o.FromConfiguration(configuration, \"Auth:Persistence\")")] // read O8:Persistence, as the README's line does
    public async Task A_persistence_section_the_options_never_read_fails_the_start_naming_the_call_that_reads_it(string section, bool readDefaultSection,
        string call)
    {
        var (resolved, error) = await ResolveStoreAsync($"o8-unread-{section}-{readDefaultSection}", akka => akka,
            services => services.AddSingleton(new O8HostingOptions { ConfigurationSection = section }),
            configuration: new Dictionary<string, string?> { [$"{section}:Persistence:Database"] = "PostgreSql" }, readDefaultSection: readDefaultSection);

        Assert.Null(resolved);
        var message = Assert.IsType<InvalidOperationException>(error).Message;
        Assert.Contains($"{section}:Persistence", message, StringComparison.Ordinal);
        Assert.Contains(call, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_cluster_without_O8Actors_Cluster_s_accounts_the_store_is_refused_with_a_clear_message()
    {
        // A cluster node (it need not join anything for the store to be made).
        var (resolved, error) = await ResolveStoreAsync("o8-unsharded-accounts", akka => akka.AddHocon(
            "akka.actor.provider = cluster\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }", HoconAddMode.Prepend));

        Assert.Null(resolved);
        Assert.Contains("needs O8Actors.Cluster's accounts: add WithOAuthLoginsCluster", Assert.IsType<InvalidOperationException>(error).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_cluster_node_a_SQLite_store_is_warned_about_at_start_as_one_nodes_own()
    {
        var warned = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        // A cluster node whose accounts are O8Actors.Cluster's (as WithOAuthLoginsCluster sets it), listening for warnings
        // before the store is made.
        var (resolved, error) = await ResolveStoreAsync("o8-per-node-store", akka => akka
            .AddHocon("akka.actor.provider = cluster\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }\n" +
                      "akka.loglevel = WARNING\no8.accounts.routed = on", HoconAddMode.Prepend)
            // What WithOAuthLoginsCluster's shard regions bring: the registers run in one here too.
            .AddHocon(Akka.Cluster.Sharding.ClusterSharding.DefaultConfig()
                .WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig()), HoconAddMode.Append)
            .WithActors((system, _) => system.EventStream.Subscribe(system.ActorOf(WarningListener.For(warned, "WithOAuthAccountsPersistence on a cluster")), typeof(Warning))),
            whileStarted: () => warned.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        Assert.Null(error);
        Assert.NotNull(resolved); // warned, not refused: a one-node cluster is right with it
        var warning = await warned.Task;
        Assert.Contains("a SQLite database (a file on each node)", warning, StringComparison.Ordinal);
        // The key ring is a folder the app chose (it may be shared): not named.
        Assert.DoesNotContain("the default Data Protection key ring", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void The_per_node_warning_names_the_default_key_ring_and_is_silent_for_PostgreSQL_with_a_shared_key_ring()
    {
        var defaults = PerNodeStoreWarning.For(new O8PersistenceOptions());
        Assert.Contains("SQLite", defaults, StringComparison.Ordinal);
        Assert.Contains("the default Data Protection key ring", defaults, StringComparison.Ordinal);

        var postgresWithOwnKeys = PerNodeStoreWarning.For(new O8PersistenceOptions { Database = O8PersistenceDatabase.PostgreSql, ConnectionString = "Host=db" });
        Assert.DoesNotContain("SQLite", postgresWithOwnKeys, StringComparison.Ordinal);
        Assert.Contains("the default Data Protection key ring", postgresWithOwnKeys, StringComparison.Ordinal);

        Assert.Null(PerNodeStoreWarning.For(new O8PersistenceOptions
        {
            Database = O8PersistenceDatabase.PostgreSql,
            ConnectionString = "Host=db",
            UseAppDataProtection = true,
        }));
    }

    /// <summary>
    /// Outside a cluster: a database that outlives the machine's data folder (PostgreSQL, a SQLite file on a mounted
    /// volume) with the default key ring, which does not (a container's redeploy): every stored account then read as
    /// signed out with nothing said at start. The default SQLite file goes with the keys; a cluster node gets the
    /// per-node warning instead.
    /// </summary>
    [Fact]
    public void A_database_that_outlives_the_default_key_ring_is_warned_of_at_start_outside_a_cluster()
    {
        var postgres = new O8PersistenceOptions { Database = O8PersistenceDatabase.PostgreSql, ConnectionString = "Host=db" };
        var warning = PerNodeStoreWarning.AtStart(clustered: false, postgres);
        Assert.Contains("tokens in PostgreSQL", warning, StringComparison.Ordinal);
        Assert.Contains("o.KeyRingFolder", warning, StringComparison.Ordinal);
        Assert.Contains("SQLite database /data/tokens.db",
            PerNodeStoreWarning.AtStart(clustered: false, new O8PersistenceOptions { ConnectionString = "Data Source=/data/tokens.db" }), StringComparison.Ordinal);
        Assert.Contains("each node keeps its own tokens", PerNodeStoreWarning.AtStart(clustered: true, postgres), StringComparison.Ordinal);

        Assert.Null(PerNodeStoreWarning.AtStart(clustered: false, new O8PersistenceOptions()));
        Assert.Null(PerNodeStoreWarning.AtStart(clustered: false, new O8PersistenceOptions { ConnectionString = "Data Source=:memory:" }));
        Assert.Null(PerNodeStoreWarning.AtStart(clustered: false, new O8PersistenceOptions
        {
            ConnectionString = $"Data Source={Path.Combine(O8PersistenceOptions.DataFolder, "apps", "mine", "tokens.db")}",
        }));
        Assert.Null(PerNodeStoreWarning.AtStart(clustered: false, new O8PersistenceOptions
        {
            Database = O8PersistenceDatabase.PostgreSql, ConnectionString = "Host=db", KeyRingFolder = "/var/lib/app/keys",
        }));
        Assert.Null(PerNodeStoreWarning.AtStart(clustered: false, new O8PersistenceOptions
        {
            Database = O8PersistenceDatabase.PostgreSql, ConnectionString = "Host=db", UseAppDataProtection = true,
        }));
    }

    /// <summary>Completes <paramref name="warned"/> with the first warning about the store's per-node settings.</summary>
    /// <summary>Starts a host with <c>WithOAuthAccountsPersistence</c> on SQLite and resolves the accounts' store as O8Actors does at start.</summary>
    private static async Task<(ITokenStore? Resolved, Exception? Error)> ResolveStoreAsync(string systemName,
        Func<AkkaConfigurationBuilder, AkkaConfigurationBuilder> configureAkka, Action<IServiceCollection>? configureServices = null,
        Func<Task>? whileStarted = null, IReadOnlyDictionary<string, string?>? configuration = null, bool readDefaultSection = false)
    {
        var folder = Path.Combine(Path.GetTempPath(), "o8-store-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (configuration is not null) builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.SetMinimumLevel(LogLevel.Critical);
        configureServices?.Invoke(builder.Services);
        ITokenStore? resolved = null;
        Exception? error = null;
        builder.Services.AddAkka(systemName, (akka, services) => configureAkka(akka)
            .WithOAuthAccountsPersistence(o =>
            {
                if (readDefaultSection) o.FromConfiguration(builder.Configuration);
                o.ConnectionString = $"Data Source={Path.Combine(folder, "tokens.db")}";
                o.KeyRingFolder = Path.Combine(folder, "keys");
            })
            .WithActors((system, _) =>
            {
                try
                {
                    resolved = TokenStoreSetup.Resolve(system, services);
                }
                catch (InvalidOperationException e)
                {
                    error = e;
                }
            }));
        using (var host = builder.Build())
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            if (whileStarted is not null) await whileStarted();
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
        return (resolved, error);
    }

    [Fact]
    public void PostgreSQL_without_a_connection_string_is_refused_when_configured()
    {
        var akka = new AkkaConfigurationBuilder(new ServiceCollection(), "o8-no-connection");

        var error = Assert.Throws<ArgumentException>(() => akka.WithOAuthAccountsPersistence(o => o.Database = O8PersistenceDatabase.PostgreSql));

        Assert.Contains("PostgreSQL needs a ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_O8_Persistence_section_of_a_hosted_apps_configuration_sets_up_the_store_beside_the_O8_settings()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Path.Combine(Path.GetTempPath(), "o8-store-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // As the package's README shows it: the store's settings in the O8 section, which AddOAuthLogins checks key by key.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["O8:Listener:Scheme"] = "http",
            ["O8:Listener:Port"] = "0",
            ["O8:Listener:BindIPv6"] = "false",
            ["O8:Listener:Host"] = "127.0.0.1", // IPv4 only: a localhost redirect could go to [::1]
            ["O8:Persistence:Database"] = "Sqlite",
            ["O8:Persistence:ConnectionString"] = $"Data Source={Path.Combine(folder, "tokens.db")}",
            ["O8:Persistence:KeyRingFolder"] = Path.Combine(folder, "keys"),
        });
        builder.Services.AddOAuthLogins();
        builder.Services.AddAkka("o8-configured-store", (akka, services) => akka
            .WithOAuthLogins()
            .WithOAuthAccountsPersistence(o => o.FromConfiguration(services.GetRequiredService<IConfiguration>())));
        try
        {
            using var host = builder.Build();
            await host.StartAsync(ct);
            Assert.Empty(await host.Services.GetRequiredService<IOAuthLogins>().GetAccountsAsync(cancellationToken: ct));
            await host.StopAsync(ct);
            Assert.True(File.Exists(Path.Combine(folder, "tokens.db")));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("O8:Persistence:Databse", "PostgreSql", "O8:Persistence:Databse is not a setting of O8Actors.Persistence")]
    [InlineData("O8:Persistence:UseAppDataProtection", "yes", "O8:Persistence:UseAppDataProtection must be true or false")]
    // Names only: a number or a comma list picked a database (or failed later naming no setting).
    [InlineData("O8:Persistence:Database", "1", "O8:Persistence:Database must be Sqlite or PostgreSql")]
    [InlineData("O8:Persistence:Database", "2", "O8:Persistence:Database must be Sqlite or PostgreSql")]
    [InlineData("O8:Persistence:Database", "Sqlite,PostgreSql", "O8:Persistence:Database must be Sqlite or PostgreSql")]
    public void A_misspelt_key_or_a_bad_value_in_the_persistence_section_is_named(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();

        var error = Assert.Throws<ArgumentException>(() => new O8PersistenceOptions().FromConfiguration(configuration));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(" postgresql ", O8PersistenceDatabase.PostgreSql)]
    [InlineData("SQLITE", O8PersistenceDatabase.Sqlite)]
    public void The_database_is_taken_by_its_name_in_any_case(string value, O8PersistenceDatabase expected)
    {
        Assert.Equal(expected, new O8PersistenceOptions().FromConfiguration(Configuration(("O8:Persistence:Database", value))).Database);
    }

    [Fact]
    public void A_connection_string_name_whose_connection_string_is_empty_is_refused()
    {
        // A placeholder in appsettings.json for an environment variable that never came: not the default database file.
        var configuration = Configuration(("O8:Persistence:ConnectionStringName", "tokens"), ("ConnectionStrings:tokens", ""));

        var error = Assert.Throws<ArgumentException>(() => new O8PersistenceOptions().FromConfiguration(configuration));

        Assert.Contains("ConnectionStrings:tokens, which is not set or is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_and_a_connection_string_name_both_set_are_refused()
    {
        var configuration = Configuration(("O8:Persistence:ConnectionString", "Data Source=a.db"), ("O8:Persistence:ConnectionStringName", "tokens"),
            ("ConnectionStrings:tokens", "Data Source=b.db"));

        var error = Assert.Throws<ArgumentException>(() => new O8PersistenceOptions().FromConfiguration(configuration));

        Assert.Contains("are both set", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("a.db", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A Windows service runs in System32 and a container or systemd unit wherever it was started: a relative key ring
    /// or SQLite file in appsettings.json landed there, not beside the app. Taken from the content root, found as the
    /// host finds it: its contentRoot setting (relative to the app's folder), else the app's folder, which is what a host
    /// started in System32 uses (it sets no contentRoot then).
    /// </summary>
    [Theory]
    [InlineData("temporary folder")]
    [InlineData(".")]
    [InlineData(null)]
    public void Relative_key_ring_and_SQLite_file_in_a_hosts_configuration_are_taken_from_its_content_root(string? contentRootSetting)
    {
        var folder = contentRootSetting == "temporary folder" ? Directory.CreateTempSubdirectory("o8-content-root-").FullName : null;
        try
        {
            var settings = new HostApplicationBuilderSettings { ContentRootPath = folder ?? contentRootSetting, DisableDefaults = true };
            var builder = Host.CreateApplicationBuilder(settings);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["O8:Persistence:KeyRingFolder"] = "keys",
                ["O8:Persistence:ConnectionStringName"] = "tokens",
                ["ConnectionStrings:tokens"] = "Data Source=data/tokens.db;Pooling=False",
            });

            var options = new O8PersistenceOptions().FromConfiguration(builder.Configuration);

            // Where the host itself says its content root is (IHostEnvironment, which the providers' key files use).
            var contentRoot = Path.GetFullPath(builder.Environment.ContentRootPath);
            Assert.Equal(Path.Combine(contentRoot, "keys"), options.KeyRingFolder);
            Assert.Equal(Path.Combine(contentRoot, "data", "tokens.db"), SqliteDatabaseFile.Of(options.EffectiveConnectionString!));
            Assert.Contains("Pooling=False", options.EffectiveConnectionString, StringComparison.Ordinal); // the rest is kept
        }
        finally
        {
            if (folder is not null) Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=file:tokens.db?mode=rwc")]
    [InlineData("Data Source=|DataDirectory|tokens.db")]
    public void A_SQLite_connection_string_that_says_where_its_file_is_itself_is_kept_as_written(string connection)
    {
        var options = new O8PersistenceOptions().FromConfiguration(Configuration(("O8:Persistence:ConnectionString", connection)));

        Assert.Equal(connection, options.EffectiveConnectionString);
    }

    /// <summary>
    /// The file the lock guards is the one SQLite opens: with a data folder set for the app (<c>DataDirectory</c>),
    /// <c>|DataDirectory|</c> is that folder, not a folder named so under the working directory (on Windows no file name
    /// at all); two processes started from different folders would each lock a file of their own.
    /// </summary>
    [Theory]
    [InlineData("|DataDirectory|", true)]
    [InlineData("|datadirectory|", true)]
    [InlineData("|DataDirectory|", false)]
    [InlineData("", true)]
    public void The_file_of_a_SQLite_connection_string_is_the_one_SQLite_opens(string prefix, bool dataDirectorySet)
    {
        var folder = Directory.CreateTempSubdirectory("o8-data-").FullName;
        var connection = $"Data Source={prefix}o8-file-{Guid.NewGuid():N}.db";
        var before = AppDomain.CurrentDomain.GetData("DataDirectory");
        AppDomain.CurrentDomain.SetData("DataDirectory", dataDirectorySet ? folder : null);
        try
        {
            string opened;
            using (var sqlite = new Microsoft.Data.Sqlite.SqliteConnection(connection))
            {
                sqlite.Open();
                opened = sqlite.DataSource;
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(opened);

            Assert.Equal(opened, SqliteDatabaseFile.Of(connection));
        }
        finally
        {
            AppDomain.CurrentDomain.SetData("DataDirectory", before);
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_connection_string_read_before_the_app_switches_to_PostgreSQL_is_kept_as_written()
    {
        const string postgres = "Host=127.0.0.1;Database=tokens";
        var options = new O8PersistenceOptions().FromConfiguration(Configuration(("O8:Persistence:ConnectionString", postgres)));

        options.Database = O8PersistenceDatabase.PostgreSql;

        Assert.Equal(postgres, options.EffectiveConnectionString);
    }

    [Fact]
    public void A_connection_string_set_in_code_after_reading_the_section_is_used_as_written()
    {
        var options = new O8PersistenceOptions().FromConfiguration(Configuration(("O8:Persistence:ConnectionString", "Data Source=configured.db")));

        options.ConnectionString = "Data Source=set-in-code.db";

        Assert.Equal("Data Source=set-in-code.db", options.EffectiveConnectionString);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();
}
