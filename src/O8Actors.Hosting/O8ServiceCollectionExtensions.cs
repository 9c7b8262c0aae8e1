using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Binding;
using O8Actors.Configuration;
using O8Actors.Runtime;

namespace O8Actors.Hosting;

/// <summary>
/// The DI half of hosting O8Actors; the Akka half is <see cref="O8AkkaHostingExtensions.WithOAuthLogins(Akka.Hosting.AkkaConfigurationBuilder, Action{O8HostingOptions}?)"/>.
/// <code>
/// builder.Services.AddOAuthLogins(o => o.AddProvider(ProviderPresets.Discord(clientId)));
/// builder.Services.AddAkka("app", akka => akka.WithOAuthLogins());
/// </code>
/// </summary>
public static class O8ServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IOAuthLogins"/>, <see cref="IOAuthConnector"/>, <see cref="O8Options"/> (bound from the
    /// <c>O8</c> section and validated on start), the providers' <see cref="HttpClient"/> and the <c>o8actors</c> health check.
    /// </summary>
    public static IServiceCollection AddOAuthLogins(this IServiceCollection services, Action<O8HostingOptions>? configure = null)
    {
        var options = new O8HostingOptions();
        configure?.Invoke(options);
        return services.AddOAuthLogins(options);
    }

    /// <summary>Like <see cref="AddOAuthLogins(IServiceCollection, Action{O8HostingOptions}?)"/>, with a ready options object.</summary>
    /// <exception cref="InvalidOperationException">Called twice on one service collection.</exception>
    public static IServiceCollection AddOAuthLogins(this IServiceCollection services, O8HostingOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        if (services.Any(d => d.ServiceType == typeof(O8Runtime)))
            throw new InvalidOperationException("AddOAuthLogins was already called on this service collection; call it once.");

        services.AddSingleton(options);
        services.AddSingleton<O8Runtime>();
        // First of O8Options' configurations, wherever the app's own are: it starts from the HOCON defaults (replacing
        // whole sections), so an app's services.Configure<O8Options> registered before this call ran first and was lost.
        // Now the app's actions apply on top of the defaults, the hosting actions and the O8 section, in either order.
        services.Insert(0, ServiceDescriptor.Singleton<IConfigureOptions<O8Options>>(sp => new O8SettingsSetup(options, sp.GetService<IConfiguration>(),
            sp.GetService<IHostEnvironment>()?.ContentRootPath)));
        services.AddSingleton<IValidateOptions<O8Options>>(sp => new O8SettingsValidator(options, sp.GetService<IConfiguration>(),
            sp.GetService<IHostEnvironment>()?.ContentRootPath));
        // Bad settings stop the host before anything starts, with a message naming the setting.
        services.AddOptions<O8Options>().ValidateOnStart();
        services.AddLogging();
        // Server mode serves the callback in the app's pipeline, whose request log writes each URL with its query (the
        // code and the state) at Information. A post-configuration, so it reads the app's rules and minimum level
        // wherever they are set (SetMinimumLevel after this call included): it must only ever tighten them.
        if (options.QuietHostingDiagnostics)
            services.AddOptions<LoggerFilterOptions>().PostConfigure<IEnumerable<ILoggerProvider>>(RequestLogFilter.Apply);
        services.AddO8HttpClient(sp => sp.GetRequiredService<IOptions<O8Options>>().Value.Login.ExchangeTimeout);
        // Server mode binds each login to its browser with a key protected by Data Protection: configure its key ring
        // (PersistKeysTo..., SetApplicationName) as for any cluster of ASP.NET Core nodes, and every node can check it.
        services.AddDataProtection();
        services.TryAddSingleton(sp => new BrowserBindingVerifier(sp.GetRequiredService<IDataProtectionProvider>()));

        services.AddSingleton<HostedOAuthLogins>();
        services.AddSingleton<IOAuthLogins>(sp => sp.GetRequiredService<HostedOAuthLogins>());
        services.AddSingleton<IOAuthConnector>(sp => sp.GetRequiredService<HostedOAuthLogins>());
        services.AddHealthChecks().AddCheck<O8HealthCheck>("o8actors", tags: ["o8", "ready"]);
        return services;
    }

    /// <summary>
    /// Registers an <see cref="OAuthFlow"/> subclass (the orchestr8 port) as a singleton running on the hosted
    /// O8Actors: give its constructor an <see cref="IOAuthLogins"/> parameter and pass it to the base constructor;
    /// DI supplies it together with any other service the constructor asks for.
    /// </summary>
    /// <remarks>
    /// A flow whose constructor passes no <see cref="IOAuthLogins"/> to the base (the shape of a literal port) would start
    /// O8Actors of its own at its first call: a second listener on the same port as the hosted one, outside the app's
    /// configuration, store and shutdown. Resolving it throws <see cref="InvalidOperationException"/> instead.
    /// </remarks>
    public static IServiceCollection AddOAuthFlow<TFlow>(this IServiceCollection services) where TFlow : OAuthFlow
    {
        services.TryAddSingleton(sp =>
        {
            var flow = ActivatorUtilities.CreateInstance<TFlow>(sp);
            if (flow.Logins is null)
                throw new InvalidOperationException(
                    $"{typeof(TFlow).Name} passes no IOAuthLogins to OAuthFlow's constructor, so it would start O8Actors of its own (a second " +
                    "listener, outside the host's settings) instead of the hosted one: give its constructor an IOAuthLogins parameter and pass " +
                    "it on as OAuthFlow's logins argument.");
            return flow;
        });
        return services;
    }
}
