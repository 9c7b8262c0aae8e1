using Microsoft.Extensions.DependencyInjection;
using O8Actors.Browser;
using O8Actors.Configuration;
using O8Actors.Providers;

namespace O8Actors.Hosting;

/// <summary>
/// How O8Actors runs inside a host (<c>services.AddOAuthLogins(...)</c> and <c>WithOAuthLogins(...)</c>).
/// Settings are layered: the shipped HOCON defaults, then <see cref="Hocon"/>, then <see cref="ConfigureSettings"/>
/// (code), then the <see cref="ConfigurationSection"/> of <c>IConfiguration</c> (appsettings.json, user secrets,
/// environment variables), so deployments can override what the code chose.
/// </summary>
public sealed class O8HostingOptions
{
    private readonly List<Action<O8Options>> _settings = [];
    private readonly List<Func<IServiceProvider, ProviderStrategy>> _providers = [];

    private string? _configurationSection = "O8";
    private TimeSpan? _shutdownTimeout;
    private bool? _bridgeAkkaLogging;
    private bool? _quietHostingDiagnostics;

    /// <summary>
    /// The <c>IConfiguration</c> section the settings and providers are bound from (default <c>O8</c>); null binds nothing.
    /// Set it in <c>AddOAuthLogins</c>: <c>WithOAuthLogins</c> refuses it.
    /// </summary>
    public string? ConfigurationSection
    {
        get => _configurationSection;
        set
        {
            _configurationSection = value;
            ConfigurationSectionSet = true;
        }
    }

    /// <summary>Extra HOCON with an <c>o8 { ... }</c> block over the shipped defaults (for example a <c>hocon/app.conf</c> file).</summary>
    public Akka.Configuration.Config? Hocon { get; set; }

    /// <summary>
    /// Opens authorize URLs; default: <see cref="SystemBrowserLauncher"/>, or in server mode (an
    /// <see cref="ListenerOptions.ExternalRedirectUri"/>) a launcher that opens nothing, since the caller gets the URL.
    /// </summary>
    public Func<IServiceProvider, IBrowserLauncher>? Browser { get; set; }

    /// <summary>
    /// How long host stop waits for pending logins to end as Cancelled (default 10 s). A login whose code is at the token
    /// endpoint waits for the answer and revokes the tokens it brings, which may take up to twice the exchange timeout
    /// (about a minute at its default 30 s) with a slow provider: a shorter value stops the system first, and such a
    /// grant stays live at the provider (raise the host's own <c>HostOptions.ShutdownTimeout</c> with it). <c>WithOAuthLogins</c> sizes the
    /// actor system's shutdown phases from its own value, as the actor system is configured before DI exists: a longer
    /// value set only in <c>AddOAuthLogins</c> fails the start, saying to set it in <c>WithOAuthLogins</c>. The app's own
    /// HOCON wins over that size: phases it sets shorter than a value set here (<c>before-service-unbind</c>,
    /// <c>service-unbind</c>) fail the start naming them; under such phases and no value set, the phases bound the wait.
    /// More than zero, at most an hour.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or less (<see cref="Timeout.InfiniteTimeSpan"/> included) or longer than an hour.</exception>
    public TimeSpan ShutdownTimeout
    {
        get => _shutdownTimeout ?? DefaultShutdownTimeout;
        set
        {
            // The shutdown phases are sized from it: an infinite (-1 ms) value gave them 5 s and stopped the host without
            // waiting, TimeSpan.MaxValue overflowed their size with an error that named no setting.
            if (value <= TimeSpan.Zero || value > MaxShutdownTimeout)
                throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), value,
                    $"ShutdownTimeout must be more than zero and at most {MaxShutdownTimeout} (it bounds the wait of host stop for pending logins).");
            _shutdownTimeout = value;
        }
    }

    /// <summary>
    /// Route Akka.NET's own log events to Microsoft.Extensions.Logging (default true). The actor system's loggers are
    /// set up by <c>WithOAuthLogins</c> before DI exists: set it there; a different value set only in
    /// <c>AddOAuthLogins</c> fails the start, saying so.
    /// </summary>
    public bool BridgeAkkaLogging
    {
        get => _bridgeAkkaLogging ?? true;
        set => _bridgeAkkaLogging = value;
    }

    /// <summary>
    /// Keeps ASP.NET Core's request log (the <c>Microsoft.AspNetCore.Hosting.Diagnostics</c> category) at Warning and above
    /// in the app's logging (default true). Its "Request starting" and "Request finished" lines, written at Information,
    /// carry each request's query string, and in server mode the callback's query is the authorization code and the
    /// state; so do the redirect results' "redirecting to" lines (<c>Microsoft.AspNetCore.Http.Result.RedirectResult</c>,
    /// MVC's <c>RedirectResultExecutor</c>), which carry the authorize URL of the app's redirect to the provider. A logger
    /// factory that ignores these rules (Serilog, NLog) is warned about at start. A stricter level the app chose for those
    /// categories (Error, None) stays. Set false to keep those lines (the code is
    /// then in the app's logs). The logging rules are registered with the services: set it in <c>AddOAuthLogins</c>; a
    /// different value set in <c>WithOAuthLogins</c> fails the start, saying so. The app's own request logging
    /// (<c>UseHttpLogging</c> with <c>HttpLoggingFields.RequestQuery</c>, <c>UseW3CLogging</c> with
    /// <c>W3CLoggingFields.UriQuery</c>) is the app's to keep off the callback path.
    /// </summary>
    public bool QuietHostingDiagnostics
    {
        get => _quietHostingDiagnostics ?? true;
        set => _quietHostingDiagnostics = value;
    }

    internal static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The longest <see cref="ShutdownTimeout"/>: a host stop that waits longer is a hung one.</summary>
    internal static readonly TimeSpan MaxShutdownTimeout = TimeSpan.FromHours(1);

    /// <summary>Whether the app set these (an unset value in one call must not override the other call's).</summary>
    internal bool ShutdownTimeoutSet => _shutdownTimeout is not null;

    internal bool BridgeAkkaLoggingSet => _bridgeAkkaLogging is not null;

    internal bool QuietHostingDiagnosticsSet => _quietHostingDiagnostics is not null;

    internal bool ConfigurationSectionSet { get; private set; }

    internal IReadOnlyList<Action<O8Options>> SettingsActions => _settings;

    internal IReadOnlyList<Func<IServiceProvider, ProviderStrategy>> ProviderFactories => _providers;

    /// <summary>Changes settings in code (applied before the <see cref="ConfigurationSection"/>, which may override them).</summary>
    public O8HostingOptions ConfigureSettings(Action<O8Options> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _settings.Add(configure);
        return this;
    }

    /// <summary>Registers a provider strategy (a preset such as <c>ProviderPresets.GitHub(...)</c>, or your own subclass) under its name.</summary>
    public O8HostingOptions AddProvider(ProviderStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        _providers.Add(_ => strategy);
        return this;
    }

    /// <summary>Registers a provider strategy built from DI at start (for example with secrets from <c>IConfiguration</c>).</summary>
    public O8HostingOptions AddProvider(Func<IServiceProvider, ProviderStrategy> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _providers.Add(factory);
        return this;
    }

    /// <summary>Registers a strategy type created through DI (its constructor may take any registered service).</summary>
    public O8HostingOptions AddProvider<TStrategy>() where TStrategy : ProviderStrategy =>
        AddProvider(sp => ActivatorUtilities.CreateInstance<TStrategy>(sp));

    /// <summary>Registers a plain OAuth 2.0 provider (validated now: a bad setting fails here, naming it).</summary>
    public O8HostingOptions AddGenericProvider(GenericOAuthOptions options) => AddProvider(new GenericOAuthStrategy(options));

    /// <summary>Registers an OpenID Connect provider configured by its issuer (discovery runs before its first login).</summary>
    public O8HostingOptions AddOidcProvider(OidcDiscoveryOptions options) => AddProvider(new OidcDiscoveryStrategy(options));
}
