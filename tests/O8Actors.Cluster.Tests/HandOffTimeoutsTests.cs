using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Configuration;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Sharding's hand-off timeout and a leaving node's shutdown phases are derived from how long a moving account or login
/// may take to stop; a node whose actual values are shorter than its actual settings need says so at start.
/// </summary>
public sealed class HandOffTimeoutsTests() : Akka.TestKit.Xunit.TestKit(OldShippedValues)
{
    /// <summary>What a node had before: Akka's 60 s hand-off timeout and the package's 40 s and 41 s phases.</summary>
    private const string OldShippedValues = """
        akka.cluster.sharding.handoff-timeout = 60s
        akka.coordinated-shutdown.phases.before-cluster-shutdown.timeout = 40s
        akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 41s
        """;

    private static readonly O8Settings.LoginSettings Login = O8Settings.From(O8Options.FromConfig()).Login;

    private static AccountSettings Accounts(TimeSpan exchangeTimeout) =>
        new(TimeSpan.FromMinutes(5), exchangeTimeout, Login with { ExchangeTimeout = exchangeTimeout });

    [Theory]
    [InlineData(30)]
    [InlineData(90)]
    public void The_derived_values_outlast_a_moving_account_and_a_moving_login(int exchangeSeconds)
    {
        var accounts = Accounts(TimeSpan.FromSeconds(exchangeSeconds));

        var timeouts = HandOffTimeouts.For(accounts);

        Assert.True(timeouts.EntityStop >= accounts.HandOffWait);
        // A login moved after its callback: its exchange, then its account stored (an ask of a renewal's length).
        Assert.True(timeouts.EntityStop >= O8Actors.Providers.ExchangeTimeouts.LoginDeadline(accounts.ExchangeTimeout) + accounts.RenewalTimeout);
        // Sharding stops the entities 5 s before its timeout; a region in graceful shutdown itself 1 s before its phase's.
        Assert.True(timeouts.Sharding - TimeSpan.FromSeconds(5) > timeouts.EntityStop);
        Assert.True(timeouts.LeavePhase > timeouts.EntityStop);
        Assert.True(timeouts.RegionPhase - TimeSpan.FromSeconds(1) >= timeouts.LeavePhase);
        Assert.Equal(timeouts.Sharding, timeouts.ToHocon().GetTimeSpan(HandOffTimeouts.ShardingPath));
    }

    [Fact]
    public void The_default_values_are_the_fallback_configuration_and_fit_the_default_settings()
    {
        var system = ActorSystem.Create("derived", HandOffTimeouts.Defaults.ToHocon());
        try
        {
            Assert.Empty(HandOffTimeouts.For(Accounts(TimeSpan.FromSeconds(30))).Shortfalls(system));
            // A longer exchange-timeout (bound with DI, after the actor system's configuration) needs more: each is named.
            Assert.Equal(3, HandOffTimeouts.For(Accounts(TimeSpan.FromSeconds(60))).Shortfalls(system).Count);
        }
        finally
        {
            Shutdown(system);
        }
    }

    [Theory]
    [InlineData(null, 125)]
    [InlineData("300s", 300)]
    public void The_hand_off_timeout_goes_ahead_of_Akkas_sharding_defaults_but_not_of_the_apps_own(string? apps, int expectedSeconds)
    {
        var builder = new AkkaConfigurationBuilder(new Microsoft.Extensions.DependencyInjection.ServiceCollection(), "derived");
        if (apps is not null) builder.AddHocon($"{HandOffTimeouts.ShardingPath} = {apps}", HoconAddMode.Append);
        // What WithClustering adds, before WithOAuthLoginsCluster: Akka's sharding defaults (60 s), as fallback.
        builder.AddHocon(Akka.Cluster.Sharding.ClusterSharding.DefaultConfig(), HoconAddMode.Append);

        HandOffTimeouts.Defaults.AddTo(builder);

        var config = builder.Configuration.Value;
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), config.GetTimeSpan(HandOffTimeouts.ShardingPath));
        Assert.Equal(HandOffTimeouts.Defaults.LeavePhase, config.GetTimeSpan("akka.coordinated-shutdown.phases.before-cluster-shutdown.timeout"));
    }

    [Fact]
    public void A_node_whose_values_are_shorter_than_its_accounts_need_logs_each_with_the_value_it_needs()
    {
        var accounts = Accounts(TimeSpan.FromSeconds(30));
        var needed = HandOffTimeouts.For(accounts);

        // This system has the values a node had before (60 s, 40 s, 41 s): each stopped a refresh under way too early.
        var ct = TestContext.Current.CancellationToken;
        EventFilter.Warning(contains: "akka.cluster.sharding.handoff-timeout is 60s").ExpectOne(() =>
            EventFilter.Warning(contains: "before-cluster-shutdown.timeout is 40s").ExpectOne(() =>
                EventFilter.Warning(contains: "cluster-sharding-shutdown-region.timeout is 41s").ExpectOne(() =>
                    HandOffTimeouts.WarnIfShort(Sys, accounts), ct), ct), ct);

        var shortfalls = needed.Shortfalls(Sys);
        Assert.Contains(shortfalls, s => s.Contains($"Set it to {needed.Sharding.TotalSeconds:0}s or more", StringComparison.Ordinal));
        Assert.Contains(shortfalls, s => s.Contains($"Set it to {needed.LeavePhase.TotalSeconds:0}s or more", StringComparison.Ordinal));
        Assert.All(shortfalls, s => Assert.Contains("rotated refresh token", s, StringComparison.Ordinal));
    }
}
