using Akka.Actor;
using Akka.Configuration;
using Akka.DependencyInjection;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using O8Actors.Browser;
using O8Actors.Configuration;
using O8Actors.Providers;
using O8Actors.Runtime;

namespace O8Actors.Hosting;

/// <summary>
/// The Akka.Hosting half of hosting O8Actors (pair it with <c>services.AddOAuthLogins(...)</c>): adds the HOCON
/// defaults as fallback, bridges Akka's logs to Microsoft.Extensions.Logging, starts the listener, provider registry
/// and flows supervisor, registers them in the <see cref="ActorRegistry"/> under <see cref="CallbackServerKey"/>,
/// <see cref="ProviderRegistryKey"/> and <see cref="FlowsSupervisorKey"/>, registers the providers and hooks
/// CoordinatedShutdown (pending logins end as Cancelled, then the port is released).
/// </summary>
public static class O8AkkaHostingExtensions
{
    /// <summary>Starts O8Actors in this actor system; <paramref name="configure"/> may add providers or set the browser.</summary>
    public static AkkaConfigurationBuilder WithOAuthLogins(this AkkaConfigurationBuilder builder, Action<O8HostingOptions>? configure = null)
    {
        O8HostingOptions? extra = null;
        if (configure is not null)
        {
            extra = new O8HostingOptions();
            configure(extra);
        }

        return builder.WithOAuthLogins(extra);
    }

    /// <summary>
    /// Starts O8Actors in this actor system. <paramref name="options"/> adds providers, a browser launcher, the shutdown
    /// timeout and the logging bridge to those given to <c>AddOAuthLogins</c>; settings (<see cref="O8HostingOptions.ConfigureSettings"/>)
    /// belong to <c>AddOAuthLogins</c>, because they are validated before the actor system starts, and so does
    /// <see cref="O8HostingOptions.QuietHostingDiagnostics"/> (a different value here fails the start).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="options"/> changes settings.</exception>
    public static AkkaConfigurationBuilder WithOAuthLogins(this AkkaConfigurationBuilder builder, O8HostingOptions? options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (options is { SettingsActions.Count: > 0 } || options?.Hocon is not null)
            throw new ArgumentException(
                "Settings passed to WithOAuthLogins would come too late to be validated at start: set them with services.AddOAuthLogins(o => o.ConfigureSettings(...)) or in the 'O8' configuration section.",
                nameof(options));
        if (options is { ConfigurationSectionSet: true })
            throw new ArgumentException(
                "ConfigurationSection passed to WithOAuthLogins would come too late: the settings are bound before the actor system starts. Set it with services.AddOAuthLogins(o => o.ConfigurationSection = ...).",
                nameof(options));

        // This runs before DI exists, so only this call's own values can shape the actor system's configuration; the
        // start checks that AddOAuthLogins asked for nothing they cannot give (CheckActorSystemSetup).
        var shutdownTimeout = options is { ShutdownTimeoutSet: true } ? options.ShutdownTimeout : O8HostingOptions.DefaultShutdownTimeout;
        var bridge = options is not { BridgeAkkaLoggingSet: true } || options.BridgeAkkaLogging;
        builder.AddHocon(O8Config.Default, HoconAddMode.Append);
        // Room for the shutdown tasks (Akka's default phase timeout is 5 s); user HOCON still wins (Append).
        var phase = PhaseFor(shutdownTimeout);
        builder.AddHocon(ConfigurationFactory.ParseString(
            $"akka.coordinated-shutdown.phases.before-service-unbind.timeout = {phase}s\n" +
            $"akka.coordinated-shutdown.phases.service-unbind.timeout = {phase}s"), HoconAddMode.Append);
        if (bridge)
        {
            builder.ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            });
        }

        builder.WithActors((ActorStarterWithResolver)((system, registry, resolver) => StartAsync(system, registry, resolver, options, bridge)));
        return builder;
    }

    /// <summary>The seconds each of the two shutdown phases gets for <paramref name="shutdownTimeout"/>: it, and Akka's own 5 s for the rest.</summary>
    private static int PhaseFor(TimeSpan shutdownTimeout) => (int)Math.Ceiling((shutdownTimeout + TimeSpan.FromSeconds(5)).TotalSeconds);

    /// <summary>
    /// The shutdown timeout and logging bridge the app set, wherever it set them. WithOAuthLogins configured the actor
    /// system before DI existed, from its own values only: a value set in AddOAuthLogins that the actor system cannot
    /// honour (a longer shutdown than its phases allow, a different logging bridge) fails the start saying where it goes.
    /// So does a QuietHostingDiagnostics set in WithOAuthLogins that differs from AddOAuthLogins', the one that took effect.
    /// </summary>
    /// <returns>The shutdown timeout to use.</returns>
    internal static TimeSpan CheckActorSystemSetup(ActorSystem system, O8HostingOptions hosting, O8HostingOptions? extra, bool bridged)
    {
        ThrowIfSettingsInSystemHocon(system.Settings.Config, hosting.Hocon);
        if (extra is { ShutdownTimeoutSet: true } && hosting.ShutdownTimeoutSet && extra.ShutdownTimeout != hosting.ShutdownTimeout)
            throw new InvalidOperationException(
                $"ShutdownTimeout is set to {hosting.ShutdownTimeout} in AddOAuthLogins and to {extra.ShutdownTimeout} in WithOAuthLogins: set it once, in WithOAuthLogins.");
        var setHere = extra is { ShutdownTimeoutSet: true };
        var shutdownTimeout = setHere ? extra!.ShutdownTimeout : hosting.ShutdownTimeout;
        // The wait runs in two phases (the logins' cancel, then the listener's stop), each cut at its own timeout.
        var shutdown = CoordinatedShutdown.Get(system);
        var phase = TimeSpan.FromTicks(Math.Min(shutdown.Timeout(CoordinatedShutdown.PhaseBeforeServiceUnbind).Ticks,
            shutdown.Timeout(CoordinatedShutdown.PhaseServiceUnbind).Ticks));
        if (shutdownTimeout > phase)
        {
            // WithOAuthLogins sized the phases from its own value: a value set only in AddOAuthLogins came too late for them.
            if (hosting.ShutdownTimeoutSet && !setHere)
                throw new InvalidOperationException(
                    $"ShutdownTimeout {shutdownTimeout} (set in AddOAuthLogins) is longer than the actor system's shutdown phases " +
                    $"'{CoordinatedShutdown.PhaseBeforeServiceUnbind}' and '{CoordinatedShutdown.PhaseServiceUnbind}' allow ({phase}): WithOAuthLogins sizes them before DI exists, from its own " +
                    "options. Set it there: akka.WithOAuthLogins(o => o.ShutdownTimeout = ...).");
            // Sized from this very value, so the app's own HOCON set the phases shorter (it wins over the size given them):
            // its logins would be cut at the phase's end, silently, however long the app asked them to be waited for.
            if (setHere)
                throw new InvalidOperationException(
                    $"ShutdownTimeout {shutdownTimeout} (set in WithOAuthLogins) is longer than the actor system's shutdown phases allow ({phase}): " +
                    $"the app's own HOCON sets 'akka.coordinated-shutdown.phases.{CoordinatedShutdown.PhaseBeforeServiceUnbind}.timeout' or " +
                    $"'...{CoordinatedShutdown.PhaseServiceUnbind}.timeout' shorter, and it wins over the size WithOAuthLogins gives them " +
                    $"({PhaseFor(shutdownTimeout)} s). Raise them to at least that, remove them, or lower ShutdownTimeout.");
            // The default, under phases the app chose shorter: its choice bounds the wait, and the logins' own steps
            // (cancel, back-channel logouts, the accounts' last saves) share that time instead of being cut midway, with a
            // margin before the phase's end as the phases sized here have (Akka's 5 s, at most a quarter of a short phase).
            shutdownTimeout = phase - TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, phase.Ticks / 4));
        }

        if (hosting.BridgeAkkaLoggingSet && hosting.BridgeAkkaLogging != bridged)
            throw new InvalidOperationException(
                $"BridgeAkkaLogging = {hosting.BridgeAkkaLogging.ToString().ToLowerInvariant()} is set in AddOAuthLogins, but the actor system's " +
                $"loggers are set up by WithOAuthLogins before DI exists, and it {(bridged ? "installed" : "left out")} the bridge. Set it there: " +
                $"akka.WithOAuthLogins(o => o.BridgeAkkaLogging = {hosting.BridgeAkkaLogging.ToString().ToLowerInvariant()}).");

        // The request log's rule is added with the services, by AddOAuthLogins: WithOAuthLogins' value would do nothing.
        if (extra is { QuietHostingDiagnosticsSet: true } && extra.QuietHostingDiagnostics != hosting.QuietHostingDiagnostics)
            throw new InvalidOperationException(
                $"QuietHostingDiagnostics = {extra.QuietHostingDiagnostics.ToString().ToLowerInvariant()} is set in WithOAuthLogins, but the app's " +
                $"logging rules are registered by AddOAuthLogins, where it is {hosting.QuietHostingDiagnostics.ToString().ToLowerInvariant()}. " +
                $"Set it there: services.AddOAuthLogins(o => o.QuietHostingDiagnostics = {extra.QuietHostingDiagnostics.ToString().ToLowerInvariant()}).");
        return shutdownTimeout;
    }

    /// <summary>
    /// A setting in the actor system's own HOCON (<c>akka.AddHocon("o8.login.timeout = 10m", ...)</c>, or an <c>o8.conf</c>
    /// read into it, as a standalone app's <c>OAuthLoginsSetup.Hocon</c> is) is not read when hosted: the settings come
    /// from the <c>O8</c> configuration section, <c>ConfigureSettings</c> and <see cref="O8HostingOptions.Hocon"/>, and
    /// only the dispatcher blocks from the actor system. Ignored, the app would run on the shipped value unaware; the
    /// start fails naming where it goes. A value equal to the shipped default (the defaults are in that HOCON) is no
    /// setting, nor one <paramref name="settingsHocon"/> gives as well (one file read into both, as the HostedApp example does).
    /// </summary>
    internal static void ThrowIfSettingsInSystemHocon(Config config, Config? settingsHocon)
    {
        foreach (var (hocon, configuration) in O8SettingKeys.All)
        {
            var path = "o8." + hocon;
            if (!config.HasPath(path)) continue;
            var value = config.GetValue(path).ToString();
            if (Gives(O8Config.Default, path, value) || Gives(settingsHocon, path, value)) continue;
            throw new InvalidOperationException(
                $"'{path}' is set in the actor system's HOCON, which the hosted O8Actors does not read for its settings (only the dispatcher " +
                $"blocks): set O8:{configuration} in the app's configuration, or in services.AddOAuthLogins(o => o.ConfigureSettings(...)) or " +
                "O8HostingOptions.Hocon.");
        }

        static bool Gives(Config? config, string path, string value) =>
            config is { IsEmpty: false } && config.HasPath(path) && config.GetValue(path).ToString() == value;
    }

    private static async Task StartAsync(ActorSystem system, IActorRegistry registry, IDependencyResolver resolver, O8HostingOptions? extra, bool bridged)
    {
        var services = resolver.GetService<IServiceProvider>();
        var runtime = services.GetService<O8Runtime>()
            ?? throw new InvalidOperationException("WithOAuthLogins needs services.AddOAuthLogins(...) in the same service collection.");
        runtime.Begin();
        try
        {
            var hosting = services.GetRequiredService<O8HostingOptions>();
            var shutdownTimeout = CheckActorSystemSetup(system, hosting, extra, bridged);
            // Frozen at start: the IOptions value is a shared mutable object, and the actors must not see later changes.
            var options = O8Settings.From(services.GetRequiredService<IOptions<O8Options>>().Value, hosting.ConfigurationSection).ToOptions();
            // A node whose logins run across a cluster takes its share of every node's logins, each redirected to the app's
            // callback URL: without one it would start (a loopback listener) and fail that share, naming no cause.
            if (ServerModeRoute.IsOn(system) && options.Listener.ExternalRedirectUri is null)
                throw new InvalidOperationException(
                    "WithOAuthLoginsCluster is for server mode: set O8:Listener:ExternalRedirectUri (o8.listener.external-redirect-uri) to the " +
                    "app's callback URL on every node, and map it with app.MapOAuthCallback(...); this node would otherwise fail every login of " +
                    "the cluster that lands on it.");
            if (options.Listener.ExternalRedirectUri is not null && hosting.QuietHostingDiagnostics)
                RequestLogFilter.WarnIfStillOpen(services.GetService<ILoggerFactory>());
            var browser = extra?.Browser?.Invoke(services) ?? hosting.Browser?.Invoke(services)
                ?? (options.Listener.ExternalRedirectUri is not null ? ServerModeBrowserLauncher.Instance : new SystemBrowserLauncher());
            var actors = await O8Bootstrap.StartAsync(system, options, browser, services.GetRequiredService<IHttpClientFactory>(),
                services.GetService<ILoggerFactory>(), bindingVerifier: services.GetRequiredService<O8Actors.Binding.BrowserBindingVerifier>(),
                tokenStore: TokenStoreSetup.Resolve(system, services)).ConfigureAwait(false);
            registry.Register<CallbackServerKey>(actors.Listener);
            registry.Register<ProviderRegistryKey>(actors.Providers);
            registry.Register<FlowsSupervisorKey>(actors.Flows);

            var client = new LoginClient(system, actors, options);
            O8Shutdown.Register(system, client, shutdownTimeout);

            // Fail the start with the listener's own reason (port in use, certificate missing) rather than later, per login;
            // unless the app asked for exactly that (o8.listener.start = on-first-use: the first browser login binds it).
            if (options.Listener.Start == ListenerStart.AtStart)
                await client.WaitForListenerAsync().ConfigureAwait(false);

            // Code first, configuration last: a deployment's O8:Providers section replaces a same-named code provider.
            var strategies = hosting.ProviderFactories.Concat(extra?.ProviderFactories ?? []).Select(f => f(services)).ToList();
            if (services.GetService<IConfiguration>() is { } configuration && hosting.ConfigurationSection is { Length: > 0 } section)
                strategies.AddRange(ConfiguredProviders.Build(configuration.GetSection(section).GetSection("Providers"),
                    services.GetService<IHostEnvironment>()?.ContentRootPath, configuration as IConfigurationRoot));
            foreach (var strategy in strategies)
                await client.RegisterProviderAsync(strategy).ConfigureAwait(false);

            runtime.Set(new O8Runtime.Started(system, actors, options, client, new AuthorizeUrlWaiter(client.Events))
            {
                Route = ServerModeRoute.Find(system, registry),
            });
        }
        catch (Exception ex)
        {
            runtime.Fail(ex);
            throw;
        }
    }
}
