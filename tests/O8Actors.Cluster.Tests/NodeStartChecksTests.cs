using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Persistence;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// What a cluster node tells its operator or its app about a setup that works on one node but not across nodes: accounts
/// whose tokens stay in the node's memory, and a provider registered at run time on one node only.
/// </summary>
public sealed class NodeStartChecksTests
{
    [Fact]
    public async Task A_node_whose_accounts_keep_their_tokens_in_memory_warns_once_at_start()
    {
        await using var node = await UnjoinedNode.StartAsync();

        var warning = Assert.Single(await node.WarningsAfterStartAsync("keeps its accounts' tokens in its own memory"));

        // Akka's formatter adds level, time and source before the text.
        Assert.EndsWith(InMemoryAccountsWarning.Warning, warning, StringComparison.Ordinal);
        Assert.Contains("WithOAuthAccountsPersistence", warning, StringComparison.Ordinal);
        Assert.Contains("README.md#accounts", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_whose_accounts_are_persisted_does_not_warn_about_memory()
    {
        var folder = Directory.CreateTempSubdirectory("o8-cluster-store-");
        try
        {
            // SQLite in a folder of this test's, with a key ring of its own: the store is made, never used.
            await using var node = await UnjoinedNode.StartAsync(configure: akka => akka.WithOAuthAccountsPersistence(o =>
            {
                o.ConnectionString = $"Data Source={Path.Combine(folder.FullName, "tokens.db")}";
                o.DataProtection = new EphemeralDataProtectionProvider();
            }));

            Assert.Empty(await node.WarningsAfterStartAsync("keeps its accounts' tokens in its own memory"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_node_that_adds_the_cluster_before_O8Actors_starts_and_routes_its_accounts()
    {
        // Akka.Hosting runs its starters one after another: the cluster's accounts starter, first here, must not wait for
        // O8Actors' own, which comes after it (the host's start hung).
        await using var node = await UnjoinedNode.StartAsync(clusterFirst: true).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // The start's checks ran and the account gateway is made (WarningsAfterStartAsync waits for it).
        Assert.Single(await node.WarningsAfterStartAsync("keeps its accounts' tokens in its own memory"));
    }

    /// <summary>
    /// A worker node without the app's callback URL started (a loopback listener), reported healthy, took its share of
    /// the cluster's logins and failed each one as "O8Actors is not running on the node", its cause never logged.
    /// </summary>
    [Fact]
    public async Task A_node_without_the_apps_callback_url_fails_its_start_naming_the_setting()
    {
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await using var node = await UnjoinedNode.StartAsync(serverMode: false);
            await node.Services.GetRequiredService<O8Actors.Hosting.O8Runtime>().WhenStarted.WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.Fail("O8Actors started on a cluster node without O8:Listener:ExternalRedirectUri.");
        }
        catch (InvalidOperationException refused) when (refused.Message.Contains("ExternalRedirectUri", StringComparison.Ordinal))
        {
            Assert.Contains("WithOAuthLoginsCluster is for server mode", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_node_that_has_not_joined_its_cluster_is_not_ready_for_the_load_balancer()
    {
        await using var node = await UnjoinedNode.StartAsync();
        var health = node.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();

        // Its listener is bound (server mode aside) and O8Actors runs: only the membership keeps it from taking requests,
        // which would wait for a shard region that can place nothing (a begin failed after 30 s, a callback got a 504).
        var report = await health.CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken);

        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, report.Status);
        Assert.Contains("not a member of its cluster", report.Entries["o8actors"].Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Akka.Cluster.MemberStatus.Up, true)]
    [InlineData(Akka.Cluster.MemberStatus.Leaving, true)]
    [InlineData(Akka.Cluster.MemberStatus.Exiting, true)]
    [InlineData(Akka.Cluster.MemberStatus.Joining, false)]
    [InlineData(Akka.Cluster.MemberStatus.WeaklyUp, false)]
    [InlineData(Akka.Cluster.MemberStatus.Down, false)]
    [InlineData(Akka.Cluster.MemberStatus.Removed, false)]
    public void A_node_is_ready_as_a_member_that_is_up_or_leaves_after_being_up(Akka.Cluster.MemberStatus status, bool ready)
    {
        Assert.Equal(ready, ClusterReadiness.Problem(status, terminated: false) is null);
        Assert.NotNull(ClusterReadiness.Problem(status, terminated: true));
    }

    [Theory]
    [InlineData("NumberOfShards")]
    [InlineData("RegionName")]
    [InlineData("BeginTimeout")]
    [InlineData("BeginTimeout past a day")] // TimeSpan.MaxValue fired the begin's deadline at once: every begin failed
    public void A_bad_cluster_option_is_refused_by_its_name(string option)
    {
        var akka = new Akka.Hosting.AkkaConfigurationBuilder(new ServiceCollection(), "o8-options");

        var refused = Assert.ThrowsAny<ArgumentException>(() => akka.WithOAuthLoginsCluster(o =>
        {
            if (option == "NumberOfShards") o.NumberOfShards = 0;
            if (option == "RegionName") o.RegionName = " ";
            if (option == "BeginTimeout") o.BeginTimeout = TimeSpan.Zero;
            if (option == "BeginTimeout past a day") o.BeginTimeout = TimeSpan.MaxValue;
        }));

        Assert.Contains("O8ClusterOptions." + option.Split(' ')[0], refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registering_a_provider_after_start_is_refused_on_a_node_whose_logins_run_across_the_cluster()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await UnjoinedNode.StartAsync();
        var logins = node.Services.GetRequiredService<IOAuthLogins>();
        var late = new O8Actors.Providers.GenericOAuthStrategy(new O8Actors.Providers.GenericOAuthOptions
        {
            Name = "late",
            AuthorizationEndpoint = new Uri("https://127.0.0.1:9/authorize"),
            TokenEndpoint = new Uri("https://127.0.0.1:9/token"),
            ClientId = "late-client",
            ClientAuthentication = O8Actors.Providers.ClientAuthentication.None,
        });

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => logins.RegisterProviderAsync(late, ct));

        // The message says why and what to do instead.
        Assert.Contains("unknown to the logins that run on the other nodes", refused.Message, StringComparison.Ordinal);
        Assert.Contains("every node at start", refused.Message, StringComparison.Ordinal);
        // Nothing was registered on this node either: the provider stays unknown everywhere, not on some nodes.
        await Assert.ThrowsAsync<UnknownProviderException>(() => logins.GetRedirectUriAsync("late", ct));
    }
}
