using Akka.Actor;
using Microsoft.Extensions.Configuration;
using O8Actors.Persistence.Tests.Support;

namespace O8Actors.Persistence.Tests;

/// <summary>The token store on SQLite (the embedded default): a file and a key ring in a temporary folder.</summary>
public sealed class SqliteTokenStoreTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-sqlite-" + Guid.NewGuid().ToString("N")[..12]);

    private string Database => Path.Combine(_folder, "tokens.db");

    private void Configure(O8PersistenceOptions o)
    {
        Directory.CreateDirectory(_folder);
        o.ConnectionString = $"Data Source={Database}";
        o.KeyRingFolder = Path.Combine(_folder, "keys");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_restarted_app_serves_the_stored_token_without_a_login_and_the_file_holds_no_token_in_plain_text()
    {
        var tokens = await TokenStoreScenarios.RoundTripAsync(sandbox.Server, (o, _) => Configure(o));

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var files = Directory.EnumerateFiles(_folder).Where(f => Path.GetFileName(f).StartsWith("tokens.db", StringComparison.Ordinal)).ToList();
        Assert.Contains(Database, files);
        Assert.True(new FileInfo(Database).Length > 0);
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            foreach (var secret in PersistentHost.Secrets(tokens)) Assert.Equal(-1, PersistentHost.Find(bytes, secret));
        }
    }

    [Fact]
    public async Task An_older_token_set_written_after_a_newer_one_is_refused() =>
        await TokenStoreScenarios.RotationIsNeverUndoneAsync(Configure);

    [Fact]
    public async Task Tokens_under_a_lost_key_ring_read_as_absent_and_a_login_saves_over_them() =>
        await TokenStoreScenarios.TokensUnderALostKeyRingAreAsGoodAsAbsentAsync(Configure, Path.Combine(_folder, "other-keys"));

    [Fact]
    public async Task A_refresh_that_read_an_older_version_saves_over_tokens_under_a_lost_key_ring() =>
        await TokenStoreScenarios.ARefreshSavesOverTokensUnderALostKeyRingAsync(Configure, Path.Combine(_folder, "other-keys"));

    [Fact]
    public async Task A_register_whose_stored_record_does_not_read_answers_a_clear_error_at_once_and_a_sign_out_clears_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var erin = new OAuthAccount("sandbox", "erin");
        // Longer than the test waits: without an answer from the register the store would only give up at this timeout.
        void Slow(O8PersistenceOptions o)
        {
            Configure(o);
            o.Timeout = TimeSpan.FromMinutes(2);
        }

        await using (var host = await StoreHost.StartAsync(Slow))
            Assert.Equal(1, await host.Store.SaveAsync(erin, Tokens("1"), 0, ct));

        // A newer format's record (after a downgrade) in every row of the account: events and snapshots.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var changed = 0;
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Database}"))
        {
            await connection.OpenAsync(ct);
            // Akka.Persistence.Sql's tables: the event in journal.message, the snapshot in snapshot.snapshot.
            foreach (var (table, column) in new[] { ("journal", "message"), ("snapshot", "snapshot") })
            {
                await using var update = new Microsoft.Data.Sqlite.SqliteCommand(
                    $"UPDATE \"{table}\" SET \"{column}\" = X'02' WHERE persistence_id = 'o8-tokens|sandbox/erin'", connection);
                changed += await update.ExecuteNonQueryAsync(ct);
            }
        }

        Assert.True(changed > 0);
        await using (var host = await StoreHost.StartAsync(Slow))
        {
            var store = host.Store;
            var load = await Assert.ThrowsAsync<StoredTokensUnreadableException>(() => store.LoadAsync(erin, ct).WaitAsync(TimeSpan.FromSeconds(30), ct));
            Assert.Contains("'o8-tokens|sandbox/erin' could not be read", load.Message, StringComparison.Ordinal);
            Assert.Contains("format 2", load.Message, StringComparison.Ordinal);
            var save = await Assert.ThrowsAsync<StoredTokensUnreadableException>(() => store.SaveAsync(erin, Tokens("2"), 1, ct).WaitAsync(TimeSpan.FromSeconds(30), ct));
            Assert.Contains("could not be read", save.Message, StringComparison.Ordinal);
            // The failed save left the account to be settled in the list: listing repairs it, and lists it, for the app to
            // find and sign out, instead of failing the list of every account.
            Assert.Contains(erin, await store.ListAsync(null, ct).WaitAsync(TimeSpan.FromSeconds(30), ct));

            await store.RemoveAsync(erin, ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.Null(await store.LoadAsync(erin, ct));
            Assert.Equal(1, await store.SaveAsync(erin, Tokens("again"), 0, ct));
        }
    }

    [Fact]
    public async Task An_account_whose_process_stopped_between_its_register_and_the_index_is_listed_after_its_next_save()
    {
        var ct = TestContext.Current.CancellationToken;
        var frank = new OAuthAccount("sandbox", "frank");
        await using (var host = await StoreHost.StartAsync(Configure))
        {
            // The crash: the register takes version 1, and the process is gone before the store tells the index.
            var options = new O8PersistenceOptions();
            Configure(options);
            var payload = new TokenPayloads(O8PersistenceHostingExtensions.DataProtectionFor(options, null!)).Protect(frank, Tokens("1"));
            var saved = await host.System.ActorSelection("/user/o8-token-registers")
                .Ask<Registers.TokensSaved>(new Registers.SaveTokens(frank.Id, payload, 0), TimeSpan.FromSeconds(30), ct);
            Assert.Equal(1, saved.Version);
        }

        await using (var host = await StoreHost.StartAsync(Configure))
        {
            var stored = await host.Store.LoadAsync(frank, ct);
            Assert.Equal(1, stored!.Version);
            Assert.Equal(2, await host.Store.SaveAsync(frank, Tokens("2"), 1, ct));

            Assert.Equal([frank], await host.Store.ListAsync(null, ct));
        }
    }

    private static TokenSet Tokens(string n) => new("access-" + n, "Bearer", DateTimeOffset.UtcNow.AddHours(1), "refresh-" + n, "openid");

    [Fact]
    public async Task A_DPoP_key_is_kept_with_its_tokens_across_a_restart() =>
        await TokenStoreScenarios.DpopKeySurvivesARestartAsync(Configure);

    [Fact]
    public async Task The_database_and_key_ring_come_from_configuration()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["O8:Persistence:Database"] = "Sqlite",
            ["O8:Persistence:ConnectionStringName"] = "tokens",
            ["ConnectionStrings:tokens"] = $"Data Source={Database}",
            ["O8:Persistence:KeyRingFolder"] = Path.Combine(_folder, "keys"),
        }).Build();
        Directory.CreateDirectory(_folder);

        await TokenStoreScenarios.RotationIsNeverUndoneAsync(o => o.FromConfiguration(configuration));

        Assert.True(File.Exists(Database));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(_folder, "keys")));
    }

    [Fact]
    public async Task Two_apps_on_the_default_database_with_the_same_provider_and_account_key_keep_their_own_tokens()
    {
        // Two apps of one user, both on the embedded default (no connection string), both signing in to the sandbox as
        // "default": one shared database would give both processes one register, one persistence id written by two.
        var ct = TestContext.Current.CancellationToken;
        var account = new OAuthAccount("sandbox", "default");
        var suffix = Guid.NewGuid().ToString("N")[..12];
        string[] apps = [$"o8-test-app-a-{suffix}", $"o8-test-app-b-{suffix}"];
        try
        {
            foreach (var app in apps)
            {
                await using var host = await StoreHost.StartAsync(o =>
                {
                    o.AppId = app;
                    o.KeyRingFolder = Path.Combine(_folder, "keys");
                });
                Assert.Null(await host.Store.LoadAsync(account, ct));
                Assert.Equal(1, await host.Store.SaveAsync(account, Tokens(app), 0, ct));
            }

            foreach (var app in apps)
            {
                Assert.True(File.Exists(O8PersistenceOptions.DefaultSqliteFileFor(app)));
                await using var host = await StoreHost.StartAsync(o =>
                {
                    o.AppId = app;
                    o.KeyRingFolder = Path.Combine(_folder, "keys");
                });
                Assert.Equal("access-" + app, (await host.Store.LoadAsync(account, ct))?.Tokens.AccessToken);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var app in apps)
            {
                var folder = Path.GetDirectoryName(O8PersistenceOptions.DefaultSqliteFileFor(app))!;
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public void The_default_database_is_the_apps_own_and_an_app_id_must_be_one_folder_name()
    {
        var root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "o8actors");
        Assert.Equal(Path.Combine(root, "apps", "my-server", "tokens.db"), O8PersistenceOptions.DefaultSqliteFileFor("my-server"));
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;
        Assert.NotNull(entry);
        Assert.Equal(Path.Combine(root, "apps", entry, "tokens.db"), O8PersistenceOptions.DefaultSqliteFile);
        Assert.NotEqual(Path.Combine(root, "tokens.db"), O8PersistenceOptions.DefaultSqliteFile);

        Assert.Throws<ArgumentException>(() => O8PersistenceOptions.DefaultSqliteFileFor(".."));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["O8:Persistence:AppId"] = "../other" }).Build();
        var error = Assert.Throws<ArgumentException>(() => new O8PersistenceOptions().FromConfiguration(configuration));
        Assert.Contains("O8:Persistence:AppId must be one folder name", error.Message, StringComparison.Ordinal);
        var named = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["O8:Persistence:AppId"] = "my-server" }).Build();
        Assert.Equal("my-server", new O8PersistenceOptions().FromConfiguration(named).AppId);
    }

    /// <summary>
    /// The wait for a previous instance's database lock was fixed at 10 s: a restart that overlaps an instance whose
    /// shutdown takes longer (a refresh being settled, a raised ShutdownTimeout) failed its start as if two apps shared
    /// the database. It is a setting now.
    /// </summary>
    [Theory]
    [InlineData("00:00:45", 45)]
    [InlineData("00:02:00", 120)]
    [InlineData("30s", 30)] // the O8 section's other durations' forms
    [InlineData("2m", 120)]
    public void The_wait_for_a_previous_instances_database_lock_is_read_from_configuration(string value, int seconds)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["O8:Persistence:DatabaseLockWait"] = value }).Build();

        Assert.Equal(TimeSpan.FromSeconds(seconds), new O8PersistenceOptions().FromConfiguration(configuration).DatabaseLockWait);
        Assert.Equal(TimeSpan.FromSeconds(10), new O8PersistenceOptions().DatabaseLockWait);
    }

    [Theory]
    [InlineData("ten seconds")]
    [InlineData("-00:00:05")]
    [InlineData("02:00:00")]
    [InlineData("10")] // a bare number: days to .NET's binder, milliseconds to HOCON
    public void A_database_lock_wait_that_is_no_time_between_zero_and_an_hour_is_refused_naming_the_key(string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["O8:Persistence:DatabaseLockWait"] = value }).Build();

        var error = Assert.Throws<ArgumentException>(() => new O8PersistenceOptions().FromConfiguration(configuration));

        Assert.Contains("O8:Persistence:DatabaseLockWait", error.Message, StringComparison.Ordinal);
    }
}
