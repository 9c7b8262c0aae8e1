using Npgsql;
using O8Actors.Persistence.Tests.Support;

namespace O8Actors.Persistence.Tests;

/// <summary>The token store on a real PostgreSQL 15 server, started for this class (see <see cref="PostgresServer"/>).</summary>
public sealed class PostgreSqlTokenStoreTests(SandboxFixture sandbox, PostgresServer postgres)
    : IClassFixture<SandboxFixture>, IClassFixture<PostgresServer>, IDisposable
{
    private readonly string _keys = Path.Combine(Path.GetTempPath(), "o8-pgkeys-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _database = "o8_" + Guid.NewGuid().ToString("N")[..12];

    private void Configure(O8PersistenceOptions o)
    {
        o.Database = O8PersistenceDatabase.PostgreSql;
        o.ConnectionString = postgres.ConnectionString(_database);
        o.KeyRingFolder = _keys;
    }

    public void Dispose()
    {
        if (Directory.Exists(_keys)) Directory.Delete(_keys, recursive: true);
        if (Directory.Exists(_keys + "-other")) Directory.Delete(_keys + "-other", recursive: true);
    }

    [Fact]
    public async Task A_restarted_app_serves_the_stored_token_without_a_login_and_no_row_holds_a_token_in_plain_text()
    {
        await postgres.CreateDatabaseAsync(_database);

        var tokens = await TokenStoreScenarios.RoundTripAsync(sandbox.Server, (o, _) => Configure(o));

        // Every value of every row of every table in the database, byte for byte.
        var rows = 0;
        await using var connection = new NpgsqlConnection(postgres.ConnectionString(_database));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync(TestContext.Current.CancellationToken))
            while (await reader.ReadAsync(TestContext.Current.CancellationToken)) tables.Add(reader.GetString(0));
        Assert.Contains("journal", tables);
        Assert.Contains("snapshot", tables);
        foreach (var table in tables)
        {
            await using var select = new NpgsqlCommand($"SELECT * FROM \"{table}\"", connection);
            await using var reader = await select.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                rows++;
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var bytes = reader.GetValue(i) switch
                    {
                        byte[] b => b,
                        string s => System.Text.Encoding.UTF8.GetBytes(s),
                        var other => System.Text.Encoding.UTF8.GetBytes(other.ToString() ?? ""),
                    };
                    foreach (var secret in PersistentHost.Secrets(tokens)) Assert.Equal(-1, PersistentHost.Find(bytes, secret));
                }
            }
        }

        Assert.True(rows > 0);
        // And the server's files (tables, WAL) after a checkpoint.
        await postgres.CheckpointAsync();
        foreach (var file in Directory.EnumerateFiles(postgres.DataFolder, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            foreach (var secret in PersistentHost.Secrets(tokens)) Assert.Equal(-1, PersistentHost.Find(bytes, secret));
        }
    }

    [Fact]
    public async Task An_older_token_set_written_after_a_newer_one_is_refused()
    {
        await postgres.CreateDatabaseAsync(_database);
        await TokenStoreScenarios.RotationIsNeverUndoneAsync(Configure);
    }

    [Fact]
    public async Task An_account_whose_id_is_longer_than_the_persistence_id_column_is_stored()
    {
        await postgres.CreateDatabaseAsync(_database);
        await TokenStoreScenarios.AnAccountWithALongKeyIsStoredAsync(Configure);
    }

    [Fact]
    public async Task Tokens_under_a_lost_key_ring_read_as_absent_and_a_login_saves_over_them()
    {
        await postgres.CreateDatabaseAsync(_database);
        await TokenStoreScenarios.TokensUnderALostKeyRingAreAsGoodAsAbsentAsync(Configure, _keys + "-other");
    }

    [Fact]
    public async Task A_refresh_that_read_an_older_version_saves_over_tokens_under_a_lost_key_ring()
    {
        await postgres.CreateDatabaseAsync(_database);
        await TokenStoreScenarios.ARefreshSavesOverTokensUnderALostKeyRingAsync(Configure, _keys + "-other");
    }
}
