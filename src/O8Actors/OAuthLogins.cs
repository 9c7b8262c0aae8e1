using Akka.Actor;
using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.Browser;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Runtime;
using O8Actors.Providers;

namespace O8Actors;

/// <summary>
/// O8Actors without a host: its own actor system, listener and providers. Start it, run logins, dispose it.
/// <code>
/// await using var logins = await OAuthLogins.StartAsync(setup => setup.Providers.Add(myStrategy));
/// var tokens = await logins.AuthorizeAsync("my-provider");
/// </code>
/// </summary>
public sealed class OAuthLogins : IOAuthLogins, IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly ServiceProvider _services;
    private readonly O8ActorRefs _actors;
    private readonly LoginClient _client;
    private readonly bool _ownsSystem;
    private int _disposed;

    private OAuthLogins(ActorSystem system, bool ownsSystem, ServiceProvider services, O8ActorRefs actors, O8Options options)
    {
        _system = system;
        _ownsSystem = ownsSystem;
        _services = services;
        _actors = actors;
        Options = options;
        _client = new LoginClient(system, actors, options);
    }

    /// <summary>The options in force.</summary>
    public O8Options Options { get; }

    /// <summary>
    /// The name of the <see cref="HttpClient"/> every provider uses: configure it (a proxy, a handler) with
    /// <c>services.AddHttpClient(OAuthLogins.HttpClientName)</c> in <see cref="OAuthLoginsSetup.ConfigureServices"/> or in the host's services.
    /// </summary>
    public const string HttpClientName = "O8Actors.Providers";

    /// <summary>The actor system (the TestKit's harness and O8Actors' own tests reach it; users go through <see cref="IOAuthLogins"/>).</summary>
    internal ActorSystem System => _system;

    /// <summary>The top-level actors.</summary>
    internal O8ActorRefs Actors => _actors;

    /// <summary>
    /// Starts O8Actors: binds the listener (throws <see cref="ListenerPortInUseException"/> or
    /// <see cref="CertificateNotFoundException"/> if it cannot) and registers the providers.
    /// </summary>
    public static async Task<OAuthLogins> StartAsync(Action<OAuthLoginsSetup>? configure = null, CancellationToken cancellationToken = default)
    {
        var setup = new OAuthLoginsSetup();
        configure?.Invoke(setup);
        var options = setup.Options.Validate();

        var services = new ServiceCollection();
        services.AddLogging();
        if (setup.LoggerFactory is not null) services.AddSingleton(setup.LoggerFactory);
        services.AddO8HttpClient(options.Login.ExchangeTimeout);
        setup.ConfigureServices?.Invoke(services);
        var provider = services.BuildServiceProvider();

        // Standalone users get quiet Akka logs unless they ask for more in their own HOCON.
        var ownsSystem = setup.ActorSystem is null;
        var system = setup.ActorSystem ?? ActorSystem.Create(setup.SystemName, (setup.Hocon ?? Config.Empty)
            .WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"))
            .WithFallback(O8Config.Default));
        // A caller's system may lack o8.* (the flow mailbox among them); its own settings still take precedence.
        if (!ownsSystem) system.Settings.InjectTopLevelFallback(O8Config.Default);
        O8ActorRefs? started = null;
        try
        {
            var browser = setup.Browser ?? new SystemBrowserLauncher();
            var actors = started = await O8Bootstrap.StartAsync(system, options, browser, provider.GetRequiredService<IHttpClientFactory>(),
                provider.GetService<ILoggerFactory>(), cancellationToken).ConfigureAwait(false);
            var logins = new OAuthLogins(system, ownsSystem, provider, actors, options);
            await logins.GetRedirectUriAsync(cancellationToken).ConfigureAwait(false);
            foreach (var strategy in setup.Providers)
                await logins.RegisterProviderAsync(strategy, cancellationToken).ConfigureAwait(false);
            return logins;
        }
        catch
        {
            if (ownsSystem) await system.Terminate().ConfigureAwait(false);
            else if (started is not null) await StopActorsAsync(started).ConfigureAwait(false);
            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public IObservable<LoginEvent> Events => _client.Events;

    /// <inheritdoc />
    public Task<TokenSet> AuthorizeAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default) =>
        _client.AuthorizeAsync(provider, request, cancellationToken);

    /// <inheritdoc />
    public Task<LoginOutcome> RunAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default) =>
        _client.RunAsync(provider, request, cancellationToken);

    /// <inheritdoc />
    public Task<TokenSet> RefreshAsync(string provider, string refreshToken, IReadOnlyList<string>? scopes = null, CancellationToken cancellationToken = default) =>
        _client.RefreshAsync(provider, refreshToken, scopes, cancellationToken);

    /// <inheritdoc />
    public Task RegisterProviderAsync(ProviderStrategy strategy, CancellationToken cancellationToken = default) =>
        _client.RegisterProviderAsync(strategy, cancellationToken);

    /// <inheritdoc />
    public Task<Uri> GetRedirectUriAsync(CancellationToken cancellationToken = default) => _client.GetRedirectUriAsync(cancellationToken);

    /// <inheritdoc />
    public Task<O8Status> GetStatusAsync(CancellationToken cancellationToken = default) => _client.GetStatusAsync(cancellationToken);

    /// <summary>
    /// Cancels the logins in flight (each ends as Cancelled), releases the port and stops the actor system; a system
    /// given in <see cref="OAuthLoginsSetup.ActorSystem"/> keeps running, only O8Actors' actors stop.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _client.CancelAllAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        try
        {
            await _actors.Listener.Ask<ListenerStopped>(StopListener.Instance, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // The listener disposes Kestrel in PostStop as well; terminating the system below gets there.
        }
        if (_ownsSystem) await _system.Terminate().ConfigureAwait(false);
        else await StopActorsAsync(_actors).ConfigureAwait(false);
        await _services.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops O8Actors' top-level actors in a system it does not own, so their names are free again.</summary>
    private static async Task StopActorsAsync(O8ActorRefs actors)
    {
        try
        {
            // The guardian's stop stops its children first, so its name is free once this returns.
            await actors.Guardian.GracefulStop(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or AskTimeoutException)
        {
            // An actor that did not stop in time stops with its system; the caller's system is not ours to wait on.
        }
    }
}

/// <summary>What <see cref="OAuthLogins.StartAsync"/> starts with.</summary>
public sealed class OAuthLoginsSetup
{
    /// <summary>Settings; defaults from <c>hocon/o8.conf</c>.</summary>
    public O8Options Options { get; set; } = O8Options.FromConfig();

    /// <summary>Providers to register at start.</summary>
    public IList<ProviderStrategy> Providers { get; } = [];

    /// <summary>Opens authorize URLs; default <see cref="SystemBrowserLauncher"/>.</summary>
    public IBrowserLauncher? Browser { get; set; }

    /// <summary>For Kestrel's and O8Actors' logs.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// An actor system to run in instead of creating one (for example a test kit's, so its probes see the logins).
    /// O8Actors adds its defaults as a fallback to the system's settings and, on dispose, stops only its own actors:
    /// the system stays the caller's to terminate. <see cref="Hocon"/> and <see cref="SystemName"/> do not apply.
    /// </summary>
    public ActorSystem? ActorSystem { get; set; }

    /// <summary>Extra HOCON for the actor system (takes precedence over the defaults).</summary>
    public Config? Hocon { get; set; }

    /// <summary>Extra services, for example to configure the <see cref="OAuthLogins.HttpClientName"/> client.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>The actor system's name.</summary>
    public string SystemName { get; set; } = "o8actors";
}
