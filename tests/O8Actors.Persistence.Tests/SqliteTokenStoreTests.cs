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
}
