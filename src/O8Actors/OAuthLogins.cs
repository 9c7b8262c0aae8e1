using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using O8Actors.Browser;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Diagnostics;
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
public sealed class OAuthLogins : IOAuthLogins, IAsyncDisposable, Providers.IUnregistersProviders
{
    private readonly ActorSystem _system;
    private readonly ServiceProvider _services;
    private readonly O8ActorRefs _actors;
    private readonly O8Settings _settings;
    private readonly LoginClient _client;
    private readonly bool _ownsSystem;
    private int _disposed;
    // The one disposal: every DisposeAsync returns it, so none returns before the port is released.
    private Task? _disposal;
    private readonly Lock _disposalGate = new();

    private OAuthLogins(ActorSystem system, bool ownsSystem, ServiceProvider services, O8ActorRefs actors, O8Settings settings)
    {
        _system = system;
        _ownsSystem = ownsSystem;
        _services = services;
        _actors = actors;
        _settings = settings;
        _client = new LoginClient(system, actors, settings);
    }

    /// <summary>The settings in force: a copy; changing it changes nothing (they were fixed at start).</summary>
    public O8Options Options => _settings.ToOptions();

    /// <summary>
    /// The name of the <see cref="HttpClient"/> every provider uses: configure it (a proxy, a handler) with
    /// <c>services.AddHttpClient(OAuthLogins.HttpClientName)</c> in <see cref="OAuthLoginsSetup.ConfigureServices"/> or in the host's services
    /// after <c>AddOAuthLogins</c>. Handlers the app adds to every client (<c>ConfigureHttpClientDefaults</c>: a resilience handler
    /// would re-send a token request) and those added to this client before O8Actors registered it are left out.
    /// </summary>
    public const string HttpClientName = "O8Actors.Providers";

    /// <summary>The actor system (the TestKit's harness and O8Actors' own tests reach it; users go through <see cref="IOAuthLogins"/>).</summary>
    internal ActorSystem System => _system;

    /// <summary>The top-level actors.</summary>
    internal O8ActorRefs Actors => _actors;

    /// <summary>Whether <see cref="DisposeAsync"/> was called (every later call throws <see cref="ObjectDisposedException"/>).</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Starts O8Actors: binds the listener (throws <see cref="ListenerPortInUseException"/> or
    /// <see cref="CertificateNotFoundException"/> if it cannot) and registers the providers. With
    /// <c>o8.listener.start = on-first-use</c> (<see cref="ListenerOptions.Start"/>) nothing is bound here: the first call
    /// that needs the listener binds it, and those exceptions come from that call instead.
    /// </summary>
    /// <exception cref="O8ConfigurationException">A setting is unknown or invalid (in <see cref="OAuthLoginsSetup.Options"/> or <see cref="OAuthLoginsSetup.Hocon"/>).</exception>
    public static async Task<OAuthLogins> StartAsync(Action<OAuthLoginsSetup>? configure = null, CancellationToken cancellationToken = default)
    {
        var setup = new OAuthLoginsSetup();
        configure?.Invoke(setup);
        // Shipped defaults, then setup.Hocon's o8 block, then what the code set; checked once and frozen.
        var settings = O8Settings.From(O8Settings.Layer(setup.Options, setup.Hocon));
        var strategies = setup.Providers.ToArray();

        var services = new ServiceCollection();
        services.AddLogging();
        if (setup.LoggerFactory is not null) services.AddSingleton(setup.LoggerFactory);
        services.AddO8HttpClient(settings.Login.ExchangeTimeout);
        setup.ConfigureServices?.Invoke(services);
        var provider = services.BuildServiceProvider();
        var loggerFactory = setup.LoggerFactory ?? provider.GetService<ILoggerFactory>();

        var ownsSystem = setup.ActorSystem is null;
        ActorSystem system;
        try
        {
            system = setup.ActorSystem ?? CreateSystem(setup, loggerFactory);
            // A caller's system may lack o8.* (the flow mailbox among them); its own settings still take precedence.
            if (!ownsSystem) system.Settings.InjectTopLevelFallback(O8Config.Default);
        }
        catch
        {
            // An invalid SystemName or Akka HOCON: the app's logger providers and the HTTP client factory go with it.
            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        O8ActorRefs? started = null;
        try
        {
            var browser = setup.Browser ?? new SystemBrowserLauncher();
            var actors = started = await O8Bootstrap.StartAsync(system, settings.ToOptions(), browser, provider.GetRequiredService<IHttpClientFactory>(),
                loggerFactory, cancellationToken, tokenStore: setup.TokenStore ?? new InMemoryTokenStore()).ConfigureAwait(false);
            var logins = new OAuthLogins(system, ownsSystem, provider, actors, settings);
            if (settings.Listener.Start == ListenerStart.AtStart)
                await logins._client.WaitForListenerAsync(cancellationToken).ConfigureAwait(false);
            foreach (var strategy in strategies)
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

    /// <summary>
    /// O8Actors' own actor system. Akka's logs go to the app's logger factory, at the level it would write, and nothing
    /// goes to stdout; its timers run on <see cref="TimerQueueScheduler"/> (no ticks while idle, cancelled timers freed at
    /// once). The caller's HOCON (first) still wins over all three.
    /// </summary>
    private static ActorSystem CreateSystem(OAuthLoginsSetup setup, ILoggerFactory? loggerFactory)
    {
        var config = (setup.Hocon ?? Config.Empty)
            .WithFallback(ConfigurationFactory.ParseString(
                $"akka.loggers = [\"{AkkaLogBridge.LoggerTypeName}\"]\n" +
                $"akka.loglevel = {AkkaLogBridge.AkkaLevelFor(loggerFactory)}\n" +
                "akka.stdout-loglevel = OFF\n" +
                "akka.log-config-on-start = off\n" +
                $"akka.scheduler.implementation = \"{TimerQueueScheduler.ConfigName}\""))
            .WithFallback(O8Config.Default);
        var bootstrap = BootstrapSetup.Create().WithConfig(config)
            .And(new AkkaLogBridge.LoggerFactorySetup(loggerFactory ?? NullLoggerFactory.Instance));
        return ActorSystem.Create(setup.SystemName, bootstrap);
    }

    /// <inheritdoc />
    /// <remarks>Subscribing after <see cref="DisposeAsync"/> throws <see cref="ObjectDisposedException"/>, as every call does.</remarks>
    public IObservable<LoginEvent> Events => _events ??= new EventsUntilDisposed(this);

    private EventsUntilDisposed? _events;

    /// <summary>
    /// The login events, refused once this instance is disposed: on an app's own actor system, which outlives it, a
    /// subscriber would otherwise hear a later instance's events; on its own, Akka's refusal to create an actor on a
    /// terminated system is no <see cref="ObjectDisposedException"/>.
    /// </summary>
    private sealed class EventsUntilDisposed(OAuthLogins owner) : IObservable<LoginEvent>
    {
        public IDisposable Subscribe(IObserver<LoginEvent> observer)
        {
            owner.ThrowIfDisposed();
            return owner._client.Events.Subscribe(observer);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<TokenSet> AuthorizeAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.AuthorizeAsync(provider, request, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<LoginOutcome> RunAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.RunAsync(provider, request, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<TokenSet> RefreshAsync(string provider, string refreshToken, IReadOnlyList<string>? scopes = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.RefreshAsync(provider, refreshToken, scopes, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task RegisterProviderAsync(ProviderStrategy strategy, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.RegisterProviderAsync(strategy, cancellationToken);
    }

    /// <summary>
    /// Removes <paramref name="strategy"/>'s provider while it is still the one registered under its name (a disposed
    /// <see cref="OAuthFlow"/> takes its provider with it), <paramref name="successor"/> taking the name over in the same
    /// step when given; true when it was removed.
    /// </summary>
    internal Task<bool> UnregisterProviderAsync(ProviderStrategy strategy, ProviderStrategy? successor = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.UnregisterProviderAsync(strategy, successor, cancellationToken);
    }

    Task<bool> Providers.IUnregistersProviders.UnregisterProviderAsync(ProviderStrategy strategy, ProviderStrategy? successor,
        CancellationToken cancellationToken) =>
        UnregisterProviderAsync(strategy, successor, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<Uri> GetRedirectUriAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.GetRedirectUriAsync(cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<Uri> GetRedirectUriAsync(string provider, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.GetRedirectUriAsync(provider, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<O8Status> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.GetStatusAsync(cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<AccessToken> GetAccessTokenAsync(OAuthAccount account, IReadOnlyList<string>? scopes = null, AccessTokenOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.GetAccessTokenAsync(account, scopes, options, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<UserInfo> GetUserInfoAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.GetUserInfoAsync(account, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<BackChannelLogoutResult> HandleBackChannelLogoutAsync(string provider, string logoutToken, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.HandleBackChannelLogoutAsync(provider, logoutToken, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<IReadOnlyList<OAuthAccount>> GetAccountsAsync(string? provider = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.GetAccountsAsync(provider, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<SignOutResult> SignOutAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.SignOutAsync(account, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">This instance was disposed.</exception>
    public Task<SignOutResult> SignOutAsync(OAuthAccount account, SignOutOptions? options, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _client.SignOutAsync(account, options, cancellationToken);
    }

    // After dispose the actors are gone: a message to them would wait for an answer that never comes.
    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    /// <summary>
    /// Cancels the logins in flight (each ends as Cancelled), releases the port and stops the actor system; a system
    /// given in <see cref="OAuthLoginsSetup.ActorSystem"/> keeps running, only O8Actors' actors stop. A login whose code
    /// is at the token endpoint is waited for (at most twice the exchange timeout), so the tokens it brings are revoked;
    /// so is an accepted back-channel logout (as long again at most), so every account of its session is signed out, and
    /// an account's refresh under way (as long again at most), so the rotated refresh token it brings is stored.
    /// </summary>
    /// <remarks>A call while another is under way waits for that one: whichever returns, the port is released.</remarks>
    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, 1);
        lock (_disposalGate) _disposal ??= DisposeOnceAsync();
        return new ValueTask(_disposal);
    }

    private async Task DisposeOnceAsync()
    {
        // An app's own system that has already terminated took O8Actors' actors (and the listener) with it: asking them
        // to cancel and stop would only wait out each request's timeout.
        if (!_system.WhenTerminated.IsCompleted)
        {
            await _client.CancelAllAsync(DrainWait(_settings.Login.ExchangeTimeout)).ConfigureAwait(false);
            // An accepted back-channel logout signs its accounts out through their actors: it is carried out before they
            // stop, its caller gone or not (most providers post a logout token once).
            await _client.WaitForLogoutsAsync(DrainWait(_settings.Login.ExchangeTimeout)).ConfigureAwait(false);
            // After the logins (a cancelled login's tokens go nowhere near an account), before the system stops: a refresh
            // at the token endpoint must reach its account, and its account the store.
            await _client.SettleAccountsAsync(DrainWait(_settings.Login.ExchangeTimeout)).ConfigureAwait(false);
            await _client.StopListenerAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            // The ends of the logins cancelled above reach the app's observers before the system that delivers them stops.
            await _client.FlushEventsAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            if (_ownsSystem) await _system.Terminate().ConfigureAwait(false);
            else await StopActorsAsync(_actors).ConfigureAwait(false);
        }
        await _services.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// How long disposing waits for the cancelled logins to end. A login whose code is at the token endpoint waits for the
    /// answer (up to its exchange deadline) and revokes the tokens it brings (up to the revocation's): the system must
    /// not stop before, or the grant stays live at the provider with no holder. Most logins end at once; 10 s at least.
    /// </summary>
    internal static TimeSpan DrainWait(TimeSpan exchangeTimeout)
    {
        var spentCode = 2 * Providers.ExchangeTimeouts.LoginDeadline(exchangeTimeout);
        return spentCode > TimeSpan.FromSeconds(10) ? spentCode : TimeSpan.FromSeconds(10);
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
    /// <summary>
    /// Settings; defaults from <c>hocon/o8.conf</c>. A setting changed here wins over <see cref="Hocon"/>; one left at its
    /// default takes the value of <see cref="Hocon"/>'s <c>o8</c> block. Read once at start: later changes do nothing.
    /// </summary>
    public O8Options Options { get; set; } = O8Options.FromConfig();

    /// <summary>Providers to register at start.</summary>
    public IList<ProviderStrategy> Providers { get; } = [];

    /// <summary>Opens authorize URLs; default <see cref="SystemBrowserLauncher"/>.</summary>
    public IBrowserLauncher? Browser { get; set; }

    /// <summary>
    /// Where O8Actors', Akka's and Kestrel's logs go (the app's logging); without one, nothing is logged and nothing is
    /// written to the console.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// An actor system to run in instead of creating one (for example a test kit's, so its probes see the logins).
    /// O8Actors adds its defaults as a fallback to the system's settings and, on dispose, stops only its own actors:
    /// the system stays the caller's to terminate. <see cref="Hocon"/> and <see cref="SystemName"/> do not apply.
    /// </summary>
    public ActorSystem? ActorSystem { get; set; }

    /// <summary>
    /// Extra HOCON for the actor system (takes precedence over the defaults): Akka settings, and O8Actors settings in an
    /// <c>o8 { ... }</c> block (an unknown <c>o8</c> key fails the start, naming the nearest setting).
    /// </summary>
    public Config? Hocon { get; set; }

    /// <summary>
    /// Where accounts keep their tokens. Null (the default) keeps them in this process's memory: they are gone when it
    /// ends. A desktop or CLI app that should remember its user across runs sets a <see cref="FileTokenStore"/>
    /// (encrypted files in the user's data folder); an app with its own storage implements <see cref="ITokenStore"/>.
    /// </summary>
    public ITokenStore? TokenStore { get; set; }

    /// <summary>Extra services, for example to configure the <see cref="OAuthLogins.HttpClientName"/> client.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>The actor system's name.</summary>
    public string SystemName { get; set; } = "o8actors";
}
