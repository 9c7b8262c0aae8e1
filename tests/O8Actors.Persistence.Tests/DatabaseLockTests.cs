using Akka.Hosting;
using O8Actors.Persistence.Tests.Support;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// Outside a cluster one actor system per token database: a second one on the same SQLite file is refused at start, as
/// a second process would be (its registers would serve tokens the first has rotated). Other databases, and a cluster's
/// nodes, are not held up. PostgreSQL's lock: <see cref="PostgreSqlTokenStoreTests"/>.
/// </summary>
public sealed class DatabaseLockTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-lock-" + Guid.NewGuid().ToString("N")[..12]);

    private string Database => Path.Combine(_folder, "tokens.db");

    private Action<O8PersistenceOptions> On(string database) => o =>
    {
        Directory.CreateDirectory(_folder);
        o.ConnectionString = $"Data Source={database}";
        o.KeyRingFolder = Path.Combine(_folder, "keys");
    };

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_second_store_on_the_same_SQLite_file_is_refused_naming_it_and_starts_once_the_first_has_stopped()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = new OAuthAccount("sandbox", "alice");
        await using (var first = await StoreHost.StartAsync(On(Database), "o8-lock-first"))
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => StoreHost.StartAsync(On(Database), "o8-lock-second"));

            Assert.Contains(Database, refused.Message, StringComparison.Ordinal);
            Assert.Contains("Run one process per database", refused.Message, StringComparison.Ordinal);
            Assert.Contains("WithOAuthLoginsCluster", refused.Message, StringComparison.Ordinal);
            // Another file is another database: not held up.
            await using var beside = await StoreHost.StartAsync(On(Path.Combine(_folder, "other.db")), "o8-lock-other");
            Assert.Equal(1, await beside.Store.SaveAsync(alice, new TokenSet("other", "Bearer"), 0, ct));
            Assert.Equal(1, await first.Store.SaveAsync(alice, new TokenSet("access-1", "Bearer"), 0, ct));
        }

        // Released when its host stopped: the next process starts and reads what the first stored.
        await using var next = await StoreHost.StartAsync(On(Database), "o8-lock-next");
        Assert.Equal(1, (await next.Store.LoadAsync(alice, ct))!.Version);
    }

    [Fact]
    public async Task Nodes_of_a_cluster_share_one_database_while_two_systems_outside_a_cluster_are_refused()
    {
        // Two cluster nodes (they need not join for their stores to be made) whose accounts are O8Actors.Cluster's.
        static AkkaConfigurationBuilder Node(AkkaConfigurationBuilder akka) => akka
            .AddHocon("akka.actor.provider = cluster\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }\n" +
                      "o8.accounts.routed = on", HoconAddMode.Prepend)
            .AddHocon(Akka.Cluster.Sharding.ClusterSharding.DefaultConfig()
                .WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig()), HoconAddMode.Append);

        await using (var first = await StoreHost.StartAsync(On(Database), "o8-lock-node", Node))
        await using (var second = await StoreHost.StartAsync(On(Database), "o8-lock-node", Node))
            Assert.NotSame(first.Store, second.Store);

        var local = Path.Combine(_folder, "local.db");
        await using var one = await StoreHost.StartAsync(On(local), "o8-lock-local");
        await Assert.ThrowsAsync<InvalidOperationException>(() => StoreHost.StartAsync(On(local), "o8-lock-local-too"));
    }
}
