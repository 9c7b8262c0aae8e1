using Akka.Actor;
using Akka.Hosting;
using O8Actors.Persistence.Tests.Support;
using Info = Akka.Event.Info;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// Outside a cluster one actor system per token database: a second one on the same SQLite file is refused at start, as
/// a second process would be (its registers would serve tokens the first has rotated), once it has waited for the first
/// to stop. Other databases, databases in memory and a cluster's nodes are not held up. The refusals here wait for
/// nothing (<see cref="O8PersistenceOptions.DatabaseLockWait"/> zero) unless a test is about the wait.
/// </summary>
public sealed class DatabaseLockTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-lock-" + Guid.NewGuid().ToString("N")[..12]);

    private string Database => Path.Combine(_folder, "tokens.db");

    private Action<O8PersistenceOptions> On(string database, TimeSpan? wait = null) => o =>
    {
        Directory.CreateDirectory(_folder);
        o.ConnectionString = $"Data Source={database}";
        o.KeyRingFolder = Path.Combine(_folder, "keys");
        o.DatabaseLockWait = wait ?? TimeSpan.Zero;
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

    [Theory]
    [InlineData("absolute")]
    [InlineData("authority and query")]
    [InlineData("relative")]
    public async Task A_SQLite_URI_locks_the_file_it_names(string form)
    {
        var path = Database.Replace('\\', '/');
        var uri = form switch
        {
            "absolute" => "file:" + path,
            "authority and query" => "FILE:///" + path.TrimStart('/') + "?mode=rwc",
            _ => "file:" + Path.GetRelativePath(Environment.CurrentDirectory, Database).Replace('\\', '/'),
        };

        await using var first = await StoreHost.StartAsync(On(uri), "o8-lock-uri");

        // The URI's file is the one locked: a start naming it plainly is refused, naming it.
        Assert.True(File.Exists(Database + ".lock"));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => StoreHost.StartAsync(On(Database), "o8-lock-uri-plain"));
        Assert.Contains(Database, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file:o8-lock-{0}?mode=memory&cache=shared")]
    [InlineData("file::memory:?cache=shared")]
    public async Task A_SQLite_URI_in_memory_is_not_locked(string uri)
    {
        var name = Guid.NewGuid().ToString("N")[..12];
        var connection = string.Format(System.Globalization.CultureInfo.InvariantCulture, uri, name);

        // The database is this process's memory: no other process can reach it, and no lock file is made for it.
        await using var first = await StoreHost.StartAsync(On(connection), "o8-lock-memory");
        await using var second = await StoreHost.StartAsync(On(connection), "o8-lock-memory-too");
        Assert.NotSame(first.Store, second.Store);
        Assert.Empty(Directory.GetFiles(Environment.CurrentDirectory, "*" + name + "*"));
    }

    [Fact]
    public async Task A_second_start_waits_for_the_first_to_stop_and_then_starts()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = new OAuthAccount("sandbox", "alice");
        var waiting = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        AkkaConfigurationBuilder Listening(AkkaConfigurationBuilder akka) => akka
            .AddHocon("akka.loglevel = INFO", HoconAddMode.Prepend)
            .WithActors((system, _) => system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new WaitListener(waiting))), typeof(Info)));

        Task<StoreHost> restarted;
        await using (var first = await StoreHost.StartAsync(On(Database), "o8-lock-stopping"))
        {
            Assert.Equal(1, await first.Store.SaveAsync(alice, new TokenSet("access-1", "Bearer"), 0, ct));
            // The app restarted while its previous instance still stops: its start waits (and says so), not refused at once.
            restarted = Task.Run(() => StoreHost.StartAsync(On(Database, TimeSpan.FromSeconds(30)), "o8-lock-restarted", Listening), ct);
            Assert.Same(waiting.Task, await Task.WhenAny(waiting.Task, restarted).WaitAsync(TimeSpan.FromSeconds(20), ct));
            Assert.Contains(Database, await waiting.Task, StringComparison.Ordinal);
            Assert.False(restarted.IsCompleted);
        }

        // The previous instance stopped: the waiting start takes the database and reads what it stored.
        await using var next = await restarted.WaitAsync(TimeSpan.FromSeconds(20), ct);
        Assert.Equal(1, (await next.Store.LoadAsync(alice, ct))!.Version);
    }

    [Fact]
    public async Task A_lock_taken_by_a_system_already_terminating_is_released()
    {
        Directory.CreateDirectory(_folder);
        var system = ActorSystem.Create("o8-lock-terminated");
        await system.Terminate();

        // Akka refuses a termination callback on a system that has terminated; the point is what the refusal leaves behind.
        Assert.Throws<InvalidOperationException>(() => DatabaseLock.TakeIfLocal(system, new O8PersistenceOptions { DatabaseLockWait = TimeSpan.Zero },
            $"Data Source={Database}"));

        // Nothing holds the file: no termination is left to release it, so the refused start must have.
        using var free = new FileStream(Database + ".lock", FileMode.Open, FileAccess.ReadWrite, FileShare.None);
    }

    /// <summary>Completes <paramref name="waiting"/> with the store's word that it waits for another process.</summary>
    private sealed class WaitListener : ReceiveActor
    {
        public WaitListener(TaskCompletionSource<string> waiting) => Receive<Info>(i =>
        {
            if (i.Message?.ToString() is { } text && text.Contains("is in use by another process; waiting", StringComparison.Ordinal))
                waiting.TrySetResult(text);
        });
    }
}
