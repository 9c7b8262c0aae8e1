using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O8Actors.Configuration;
using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// ShutdownTimeout and BridgeAkkaLogging given to AddOAuthLogins, WithOAuthLogins or both: the value the app set wins,
/// and one that cannot reach the actor system (configured by WithOAuthLogins before DI exists) fails the start saying where it goes.
/// QuietHostingDiagnostics works only in AddOAuthLogins: a different value in WithOAuthLogins fails the start, saying so.
/// </summary>
public sealed class HostingOptionsSplitTests
{
    private static IHost Build(Action<O8HostingOptions> services, Action<O8HostingOptions>? akka, string systemName, string? appHocon = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(HostedO8.LoopbackSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddOAuthLogins(services);
        builder.Services.AddAkka(systemName, a =>
        {
            if (appHocon is not null) a.AddHocon(appHocon, HoconAddMode.Prepend);
            a.WithOAuthLogins(akka);
        });
        return builder.Build();
    }

    [Fact]
    public async Task A_shutdown_timeout_longer_than_the_phases_set_only_in_AddOAuthLogins_fails_the_start_saying_where_it_goes()
    {
        using var host = Build(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60), null, "o8-split-shutdown");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(TestContext.Current.CancellationToken));

        var cause = Assert.IsType<InvalidOperationException>(error is AggregateException a ? a.InnerException : error);
        Assert.Contains("WithOAuthLogins(o => o.ShutdownTimeout", cause.Message);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_shutdown_timeout_set_in_WithOAuthLogins_sizes_the_actor_systems_shutdown_phases()
    {
        using var host = Build(_ => { }, o => o.ShutdownTimeout = TimeSpan.FromSeconds(60), "o8-split-phases");
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var phase = CoordinatedShutdown.Get(host.Services.GetRequiredService<ActorSystem>()).Timeout(CoordinatedShutdown.PhaseBeforeServiceUnbind);
            Assert.True(phase >= TimeSpan.FromSeconds(60), $"phase {phase}");
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// The app's own HOCON wins over the phases WithOAuthLogins sizes: a shutdown timeout it set there and a phase the app
    /// set shorter cut the logins' wait at the phase's end, unsaid. The start fails naming the phase (it started before).
    /// </summary>
    [Fact]
    public async Task A_shutdown_timeout_set_in_WithOAuthLogins_that_the_apps_own_HOCON_cuts_short_fails_the_start_naming_the_phase()
    {
        using var host = Build(_ => { }, o => o.ShutdownTimeout = TimeSpan.FromSeconds(20), "o8-split-app-phase",
            "akka.coordinated-shutdown.phases.before-service-unbind.timeout = 3s");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(TestContext.Current.CancellationToken));

        var cause = Assert.IsType<InvalidOperationException>(error is AggregateException a ? a.InnerException : error);
        Assert.Contains("before-service-unbind.timeout", cause.Message, StringComparison.Ordinal);
        Assert.Contains("25 s", cause.Message, StringComparison.Ordinal);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// With no shutdown timeout of its own, an app whose HOCON sets the phases shorter than the default wait chose that
    /// bound: the logins' shutdown steps share it (they were cut midway through the default's 10 s before).
    /// </summary>
    [Fact]
    public async Task The_default_shutdown_timeout_yields_to_shorter_phases_the_app_set_itself()
    {
        var system = ActorSystem.Create("o8-split-short-phases", ConfigurationFactory.ParseString(
            "akka.coordinated-shutdown.phases.before-service-unbind.timeout = 8s\nakka.coordinated-shutdown.phases.service-unbind.timeout = 4s"));
        try
        {
            // A margin before the phase's end (a quarter of so short a phase), as the phases sized from a timeout have.
            Assert.Equal(TimeSpan.FromSeconds(3), O8AkkaHostingExtensions.CheckActorSystemSetup(system, new O8HostingOptions(), null, bridged: true));
            Assert.Equal(TimeSpan.FromSeconds(2), O8AkkaHostingExtensions.CheckActorSystemSetup(system,
                new O8HostingOptions(), new O8HostingOptions { ShutdownTimeout = TimeSpan.FromSeconds(2) }, bridged: true));
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// A setting written into the actor system's HOCON (as a standalone app's o8.conf is read) is not read when hosted: the
    /// start fails naming the configuration key it belongs to. It started on the shipped value before, unaware. The shipped
    /// defaults, which WithOAuthLogins puts into that HOCON, are no setting of the app's.
    /// </summary>
    [Fact]
    public async Task A_setting_in_the_actor_systems_own_HOCON_fails_the_start_naming_where_it_belongs()
    {
        var system = ActorSystem.Create("o8-system-hocon", ConfigurationFactory.ParseString("o8.login.timeout = 7m").WithFallback(O8Config.Default));
        var shipped = ActorSystem.Create("o8-system-defaults", O8Config.Default);
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() =>
                O8AkkaHostingExtensions.CheckActorSystemSetup(system, new O8HostingOptions(), null, bridged: true));
            Assert.Contains("'o8.login.timeout'", error.Message, StringComparison.Ordinal);
            Assert.Contains("O8:Login:Timeout", error.Message, StringComparison.Ordinal);

            O8AkkaHostingExtensions.CheckActorSystemSetup(shipped, new O8HostingOptions(), null, bridged: true);
            // One file read into both (the HostedApp example's): the value is the settings' own.
            var both = new O8HostingOptions { Hocon = ConfigurationFactory.ParseString("o8.login.timeout = 7m") };
            O8AkkaHostingExtensions.CheckActorSystemSetup(system, both, null, bridged: true);
        }
        finally
        {
            await Task.WhenAll(system.Terminate(), shipped.Terminate());
        }
    }

    [Fact]
    public async Task The_AddOAuthLogins_shutdown_timeout_is_not_replaced_by_the_default_of_WithOAuthLogins_options()
    {
        var system = ActorSystem.Create("o8-split-effective");
        try
        {
            var hosting = new O8HostingOptions { ShutdownTimeout = TimeSpan.FromSeconds(3) };
            var extra = new O8HostingOptions().AddProvider(ProviderPresets.Discord("discord-client"));

            Assert.Equal(TimeSpan.FromSeconds(3), O8AkkaHostingExtensions.CheckActorSystemSetup(system, hosting, extra, bridged: true));
            Assert.Equal(TimeSpan.FromSeconds(3), O8AkkaHostingExtensions.CheckActorSystemSetup(system, hosting, null, bridged: true));
            var both = new O8HostingOptions { ShutdownTimeout = TimeSpan.FromSeconds(4) };
            Assert.Equal(TimeSpan.FromSeconds(4), O8AkkaHostingExtensions.CheckActorSystemSetup(system, new O8HostingOptions(), both, bridged: true));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task BridgeAkkaLogging_false_set_only_in_AddOAuthLogins_fails_the_start_saying_where_it_goes()
    {
        using var host = Build(o => o.BridgeAkkaLogging = false, null, "o8-split-bridge");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(TestContext.Current.CancellationToken));

        var cause = Assert.IsType<InvalidOperationException>(error is AggregateException a ? a.InnerException : error);
        Assert.Contains("WithOAuthLogins(o => o.BridgeAkkaLogging = false)", cause.Message);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task BridgeAkkaLogging_false_in_WithOAuthLogins_leaves_the_actor_systems_loggers_alone()
    {
        using var host = Build(_ => { }, o => o.BridgeAkkaLogging = false, "o8-split-no-bridge");
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var loggers = host.Services.GetRequiredService<ActorSystem>().Settings.Loggers;
            Assert.DoesNotContain(loggers, l => l.Contains("LoggerFactory", StringComparison.Ordinal));
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task QuietHostingDiagnostics_false_set_only_in_WithOAuthLogins_fails_the_start_saying_where_it_goes()
    {
        using var host = Build(_ => { }, o => o.QuietHostingDiagnostics = false, "o8-split-quiet");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(TestContext.Current.CancellationToken));

        var cause = Assert.IsType<InvalidOperationException>(error is AggregateException a ? a.InnerException : error);
        Assert.Contains("AddOAuthLogins(o => o.QuietHostingDiagnostics = false)", cause.Message);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task QuietHostingDiagnostics_in_WithOAuthLogins_that_matches_AddOAuthLogins_starts()
    {
        var system = ActorSystem.Create("o8-split-quiet-same");
        try
        {
            var off = new O8HostingOptions { QuietHostingDiagnostics = false };
            O8AkkaHostingExtensions.CheckActorSystemSetup(system, off, new O8HostingOptions { QuietHostingDiagnostics = false }, bridged: true);
            O8AkkaHostingExtensions.CheckActorSystemSetup(system, off, new O8HostingOptions(), bridged: true);
            O8AkkaHostingExtensions.CheckActorSystemSetup(system, new O8HostingOptions(), new O8HostingOptions { QuietHostingDiagnostics = true }, bridged: true);
            Assert.Throws<InvalidOperationException>(() =>
                O8AkkaHostingExtensions.CheckActorSystemSetup(system, off, new O8HostingOptions { QuietHostingDiagnostics = true }, bridged: true));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void ConfigurationSection_in_WithOAuthLogins_is_refused()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "x");

        var error = Assert.Throws<ArgumentException>(() => builder.WithOAuthLogins(o => o.ConfigurationSection = "Auth"));

        Assert.Contains("AddOAuthLogins", error.Message);
    }
}
