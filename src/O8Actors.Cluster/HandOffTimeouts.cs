using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Providers;

namespace O8Actors.Cluster;

/// <summary>
/// Sharding's hand-off timeout and a leaving node's shutdown phases, derived from how long a login's and an account's
/// entity may take to stop once told to move, so that sharding never stops one sooner.
/// </summary>
/// <remarks>
/// An account told to move finishes its renewal first (a refresh's rotated refresh token must reach the store), for up
/// to <see cref="AccountSettings.HandOffWait"/> (80 s + 35 s with the default <c>o8.login.exchange-timeout</c> of 30 s);
/// a login whose code is at the provider finishes its exchange and stores its account. Sharding stops an entity that has
/// not stopped 5 s before its <c>handoff-timeout</c> (Akka's default 60 s: after 55 s), and a leaving node's regions stop
/// at the timeouts of the shutdown phases (<see cref="HandOffAtLeave"/>: 40 s before): an account then lost the rotated
/// refresh token of a refresh still under way, and its user had to sign in again. The values are added where the app has
/// not set its own when the cluster is configured (<see cref="AddTo"/>), from the default settings (the O8 settings the
/// node runs with are bound later, with DI); at start the node checks its actual values against its actual settings and
/// logs a warning naming each one that is too short and what it needs (<see cref="Shortfalls"/>).
/// </remarks>
/// <param name="EntityStop">The longest a login's or an account's entity takes to stop once told to move.</param>
/// <param name="Sharding"><c>akka.cluster.sharding.handoff-timeout</c>.</param>
/// <param name="LeavePhase">The timeout of the shutdown phase a leaving node hands its entities off in (<see cref="HandOffAtLeave.Phase"/>).</param>
/// <param name="RegionPhase">The timeout of sharding's own shutdown phase, <c>cluster-sharding-shutdown-region</c>.</param>
internal sealed record HandOffTimeouts(TimeSpan EntityStop, TimeSpan Sharding, TimeSpan LeavePhase, TimeSpan RegionPhase)
{
    /// <summary>The HOCON path of sharding's hand-off timeout.</summary>
    public const string ShardingPath = "akka.cluster.sharding.handoff-timeout";

    /// <summary>How much earlier than its <c>handoff-timeout</c> sharding stops the entities of a shard it hands off (Akka's Shard).</summary>
    internal static readonly TimeSpan ShardingStopsEntitiesEarlier = TimeSpan.FromSeconds(5);

    /// <summary>How much earlier than its phase's timeout a shard region in graceful shutdown stops itself (Akka's ShardRegion).</summary>
    internal static readonly TimeSpan RegionsStopEarlier = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Room after the last entity has stopped: its shard reports to the coordinator, the region stops, and a store's write
    /// begun by the account just before its deadline completes.
    /// </summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(5);

    /// <summary>The values for the shipped default settings: the fallback configuration <c>WithOAuthLoginsCluster</c> adds.</summary>
    public static HandOffTimeouts Defaults { get; } = For(DefaultAccountSettings());

    /// <summary>The values an account and a login running with <paramref name="accounts"/> need.</summary>
    public static HandOffTimeouts For(AccountSettings accounts)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        // A login moved after its callback: its exchange (the login's deadline), then its account stored (an ask of a
        // renewal's length, LoginClient), then its outcome sent.
        var login = ExchangeTimeouts.LoginDeadline(accounts.ExchangeTimeout) + accounts.RenewalTimeout;
        var entityStop = accounts.HandOffWait > login ? accounts.HandOffWait : login;
        var leave = entityStop + Margin;
        return new HandOffTimeouts(entityStop, entityStop + ShardingStopsEntitiesEarlier + Margin, leave, leave + RegionsStopEarlier);
    }

    /// <summary>The values as HOCON.</summary>
    public Config ToHocon() => ConfigurationFactory.ParseString(ShardingHocon + "\n" + PhasesHocon);

    private string ShardingHocon => $"{ShardingPath} = {Seconds(Sharding)}";

    private string PhasesHocon =>
        $"akka.coordinated-shutdown.phases.{HandOffAtLeave.Phase}.timeout = {Seconds(LeavePhase)}\n" +
        $"akka.coordinated-shutdown.phases.{CoordinatedShutdown.PhaseClusterShardingShutdownRegion}.timeout = {Seconds(RegionPhase)}";

    /// <summary>
    /// Adds the values to <paramref name="builder"/>'s configuration where the app has not set its own: the phases as
    /// fallback; the hand-off timeout ahead of Akka's sharding defaults, which <c>WithClustering</c> has already added as
    /// fallback (an earlier fallback wins), unless the configuration so far holds another value than Akka's own.
    /// </summary>
    public void AddTo(AkkaConfigurationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddHocon(ConfigurationFactory.ParseString(PhasesHocon), HoconAddMode.Append);
        var akkas = ClusterSharding.DefaultConfig().GetTimeSpan(ShardingPath);
        if (builder.Configuration.HasValue && builder.Configuration.Value.HasPath(ShardingPath)
            && builder.Configuration.Value.GetTimeSpan(ShardingPath) != akkas)
            return;
        builder.AddHocon(ConfigurationFactory.ParseString(ShardingHocon), HoconAddMode.Prepend);
    }

    /// <summary>
    /// What in <paramref name="system"/>'s configuration is too short for these values: one sentence each, naming the
    /// setting, its value and the value it needs (none when all fit).
    /// </summary>
    public IReadOnlyList<string> Shortfalls(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var shutdown = CoordinatedShutdown.Get(system);
        var sharding = system.Settings.Config.GetTimeSpan(ShardingPath, null, allowInfinite: false);
        var found = new List<string>();
        // Sharding stops a shard's entities 5 s before its hand-off timeout, a region in graceful shutdown itself 1 s before
        // its phase's timeout: each of those, and the phase the node hands off in, must outlast the slowest entity.
        Check(found, ShardingPath, sharding, sharding - ShardingStopsEntitiesEarlier, Sharding);
        Check(found, $"akka.coordinated-shutdown.phases.{HandOffAtLeave.Phase}.timeout", shutdown.Timeout(HandOffAtLeave.Phase),
            shutdown.Timeout(HandOffAtLeave.Phase), LeavePhase);
        var region = shutdown.Timeout(CoordinatedShutdown.PhaseClusterShardingShutdownRegion);
        Check(found, $"akka.coordinated-shutdown.phases.{CoordinatedShutdown.PhaseClusterShardingShutdownRegion}.timeout", region,
            region - RegionsStopEarlier, RegionPhase);
        return found;

        void Check(List<string> into, string path, TimeSpan value, TimeSpan entitiesGet, TimeSpan needed)
        {
            if (value >= needed) return;
            into.Add($"{path} is {Seconds(value)}: an entity of a login or an account that is moving then stops after {Seconds(entitiesGet)}, " +
                $"but may need {Seconds(EntityStop)} to finish (a refresh under way, whose rotated refresh token is then lost and its user must " +
                $"sign in again). Set it to {Seconds(needed)} or more, or leave it unset (O8Actors.Cluster derives it from the default settings).");
        }
    }

    /// <summary>Logs one warning per shortfall of <paramref name="system"/> against the settings its accounts run with.</summary>
    public static void WarnIfShort(ActorSystem system, AccountSettings accounts)
    {
        foreach (var shortfall in For(accounts).Shortfalls(system)) system.Log.Warning("{0}", shortfall);
    }

    private static string Seconds(TimeSpan value) => $"{Math.Ceiling(value.TotalSeconds).ToString(CultureInfo.InvariantCulture)}s";

    private static AccountSettings DefaultAccountSettings()
    {
        var defaults = O8Settings.From(O8Options.FromConfig());
        return new AccountSettings(defaults.RefreshMargin, defaults.Login.ExchangeTimeout, defaults.Login);
    }
}
