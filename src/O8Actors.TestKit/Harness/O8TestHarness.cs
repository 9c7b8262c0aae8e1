using System.Buffers.Text;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using O8Actors.Browser;
using O8Actors.Configuration;
using O8Actors.Providers;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;
using CoreClientAuthentication = O8Actors.Providers.ClientAuthentication;

namespace O8Actors.TestKit;

/// <summary>
/// Everything a flow test needs, wired together: a <see cref="SandboxAuthorizationServer"/> with a registered client,
/// an <see cref="OAuthLogins"/> orchestrator whose HTTPS listener (free port) uses a development-CA certificate, a
/// <see cref="ScriptedBrowser"/> that trusts that CA, and the sandbox registered as a provider through OpenID Connect
/// discovery. Each login gets a <see cref="LoginScript"/> that decides its fate in the sandbox, the browser and the
/// token endpoint.
/// <code>
/// await using var o8 = await O8TestHarness.StartAsync();
/// var login = await o8.RunAsync(LoginScript.Deny());
/// Assert.IsType&lt;LoginDenied&gt;(login.Outcome);
/// </code>
/// Use it directly, as an xUnit fixture (<c>O8HarnessFixture</c> in O8Actors.TestKit.Xunit2 and O8Actors.TestKit.Xunit),
/// or through the <c>O8FlowsTestKit</c> base class, which starts it in the test kit's own actor system
/// (<see cref="StartAsync(ActorSystem, O8TestHarnessOptions?, CancellationToken)"/>) so its probes see the logins.
/// </summary>
/// <remarks>
/// The development CA is trusted by the scripted browser only: real browsers need mkcert (<c>mkcert -install</c>), see
/// <see cref="CertificateNotice.DevelopmentCa"/>.
/// </remarks>
public sealed class O8TestHarness : IAsyncDisposable
{
    private const string ClientId = "o8-testkit-client";

    private const string TestSchedulerHocon = "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"";

    private readonly ScriptBook _book = new();
    private ActorSystem? _hostSystem;
    private HarnessCertificate? _certificate;
    private X509Certificate2? _clientCertificate;
    private SandboxAuthorizationServer? _sandbox;
    private TimeSpan _devicePollInterval;
    private ScriptedBrowser? _browser;
    private OAuthLogins? _flows;
    private IDisposable? _subscription;
    private IDisposable? _retirement;
    private LoginMethod _defaultMethod;
    private int _started;
    private int _disposed;

    /// <summary>A harness with the default options; call <see cref="InitializeAsync"/> (or use <see cref="StartAsync(O8TestHarnessOptions?, CancellationToken)"/>).</summary>
    public O8TestHarness()
        : this(null)
    {
    }

    /// <summary>A harness with <paramref name="options"/>; call <see cref="InitializeAsync"/> or use <see cref="StartAsync(O8TestHarnessOptions?, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public O8TestHarness(O8TestHarnessOptions? options)
    {
        Options = options ?? new O8TestHarnessOptions();
        Options.Validate();
        Events = new LoginEventRecorder(Options.MaxEventsKept);
    }

    /// <summary>The options in force.</summary>
    public O8TestHarnessOptions Options { get; }

    /// <summary>The orchestrator under test.</summary>
    public OAuthLogins Logins => _flows ?? throw NotStarted();

    /// <summary>The sandbox authorization server: counters, fault plan, token checks.</summary>
    public SandboxAuthorizationServer Sandbox => _sandbox ?? throw NotStarted();

    /// <summary>The scripted browser, or <c>null</c> when <see cref="O8TestHarnessOptions.Browser"/> replaced it.</summary>
    public ScriptedBrowser? Browser => _browser;

    /// <summary>The login events since start: the latest <see cref="O8TestHarnessOptions.MaxEventsKept"/>.</summary>
    public LoginEventRecorder Events { get; }

    /// <summary>How many login scripts the harness holds (for tests that it forgets those of ended logins).</summary>
    internal int ScriptsHeld => _book.Count;

    /// <summary>The provider name the sandbox is registered under.</summary>
    public string ProviderName => Options.ProviderName;

    /// <summary>The sandbox provider's own redirect URI (the listener's callback URI followed by its name), registered with the sandbox client.</summary>
    public Uri RedirectUri { get; private set; } = null!;

    /// <summary>The sandbox client the provider uses (its <see cref="SandboxClient.ToString"/> hides the secret).</summary>
    public SandboxClient Client { get; private set; } = null!;

    /// <summary>Which certificate the listener uses, in words (for example "development CA (...)" or "mkcert (path)"); "none (plain http)" without TLS.</summary>
    public string CertificateDescription => _certificate?.Description ?? "none (plain http)";

    /// <summary>Whether the listener's certificate comes from the throwaway development CA (then show <see cref="CertificateNotice.DevelopmentCa"/> to humans).</summary>
    public bool UsesDevelopmentCa => _certificate?.IsDevelopmentCa ?? false;

    /// <summary>The root the scripted browser trusts on top of the system store (for your own HTTP clients), or <c>null</c>.</summary>
    public X509Certificate2? TrustedRoot => _certificate?.TrustedRoot;

    /// <summary>The orchestrator's actor system (the one given to <see cref="StartAsync(ActorSystem, O8TestHarnessOptions?, CancellationToken)"/>, if any).</summary>
    public ActorSystem System => Logins.System;

    /// <summary>The virtual-time scheduler (with <see cref="O8TestHarnessOptions.VirtualTime"/>): <c>Scheduler.Advance(timeout)</c> fires login deadlines.</summary>
    /// <exception cref="InvalidOperationException">The harness runs on real time.</exception>
    public TestScheduler Scheduler => System.Scheduler as TestScheduler
        ?? throw new InvalidOperationException("The harness runs on real time; set O8TestHarnessOptions.VirtualTime = true to advance a TestScheduler.");

    /// <summary>Starts a harness with <paramref name="options"/> (defaults when <c>null</c>).</summary>
    public static async Task<O8TestHarness> StartAsync(O8TestHarnessOptions? options = null, CancellationToken cancellationToken = default)
    {
        var harness = new O8TestHarness(options);
        await harness.StartCoreAsync(cancellationToken).ConfigureAwait(false);
        return harness;
    }

    /// <summary>
    /// Starts a harness whose orchestrator runs in <paramref name="system"/> instead of a system of its own, so actors
    /// and probes of that system (a test kit's <c>TestActor</c>, <c>CreateTestProbe()</c>) share its event stream and
    /// scheduler. Build the system with <see cref="ActorSystemConfig"/>. Disposing the harness stops O8Actors' actors
    /// and leaves the system running.
    /// </summary>
    /// <param name="system">The actor system to run in.</param>
    /// <param name="options">Defaults when <c>null</c>; <see cref="O8TestHarnessOptions.VirtualTime"/> must match the system's scheduler.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="ArgumentException">Virtual time is asked but the system's scheduler is not a <see cref="TestScheduler"/>, or the reverse.</exception>
    public static async Task<O8TestHarness> StartAsync(ActorSystem system, O8TestHarnessOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        var harness = new O8TestHarness(options) { _hostSystem = system };
        if (harness.Options.VirtualTime != system.Scheduler is TestScheduler)
        {
            throw new ArgumentException(harness.Options.VirtualTime
                ? "VirtualTime is set but the actor system runs on real time: build it with O8TestHarness.ActorSystemConfig(options)."
                : "The actor system runs on a TestScheduler but VirtualTime is not set: logins would never time out.", nameof(system));
        }

        await harness.StartCoreAsync(cancellationToken).ConfigureAwait(false);
        return harness;
    }

    /// <summary>
    /// The configuration of an actor system a harness can run in (see <see cref="StartAsync(ActorSystem, O8TestHarnessOptions?, CancellationToken)"/>):
    /// O8Actors' defaults and, with <see cref="O8TestHarnessOptions.VirtualTime"/>, Akka's <see cref="TestScheduler"/>.
    /// </summary>
    /// <param name="options">The harness options; only <see cref="O8TestHarnessOptions.VirtualTime"/> is read.</param>
    public static Config ActorSystemConfig(O8TestHarnessOptions? options = null) =>
        options?.VirtualTime == true
            ? ConfigurationFactory.ParseString(TestSchedulerHocon).WithFallback(O8Config.Default)
            : O8Config.Default;

    /// <summary>Starts a harness after <paramref name="configure"/> adjusted the default options.</summary>
    public static Task<O8TestHarness> StartAsync(Action<O8TestHarnessOptions> configure, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new O8TestHarnessOptions();
        configure(options);
        return StartAsync(options, cancellationToken);
    }

    /// <summary>Starts the sandbox, the orchestrator and the browser (for a harness made with a constructor).</summary>
    public Task InitializeAsync() => StartCoreAsync(CancellationToken.None);

    /// <summary>
    /// An authorization request that plays <paramref name="script"/>: its <c>login_hint</c> is a fresh tag the sandbox,
    /// the browser and the fault plan look up. Use it with <see cref="Logins"/> directly, or with your own login code.
    /// The script is forgotten when its login ends, however it ends (even before it had an authorize URL; with several
    /// logins started from one request at once, when the last of them ends); the last thousand or so forgotten scripts are
    /// still played (a login started from the request again, a browser that comes back late), and an older one is refused
    /// with an error that says so: make one request per login. One whose login
    /// never starts (never run, refused by the pending-login limits, cancelled before it starts) is held until the harness
    /// is disposed.
    /// </summary>
    /// <param name="script">The login's fate.</param>
    /// <param name="timeout">Its deadline; by default <see cref="O8TestHarnessOptions.AbandonTimeout"/> for scripts that end by timeout (in a device-login harness past the sandbox's poll interval; not a consent login in a <see cref="O8TestHarnessOptions.Browser"/> of your own), else <see cref="O8TestHarnessOptions.LoginTimeout"/>.</param>
    /// <param name="scopes">Scopes; <c>null</c> for <see cref="O8TestHarnessOptions.Scopes"/>.</param>
    public AuthorizationRequest Request(LoginScript script, TimeSpan? timeout = null, IReadOnlyList<string>? scopes = null) =>
        Prepare(script, timeout, scopes).Request;

    /// <summary>Runs one login that plays <paramref name="script"/> and returns how it ended (never throws for the outcome).</summary>
    /// <param name="script">The login's fate.</param>
    /// <param name="timeout">Its deadline (see <see cref="Request"/>).</param>
    /// <param name="cancellationToken">Cancels the login (it ends as <see cref="LoginCancelled"/>).</param>
    public async Task<ScriptedLoginResult> RunAsync(LoginScript script, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (tag, request) = Prepare(script, timeout, null);
        try
        {
            var method = _book.WatchMethod(tag);
            var clock = Stopwatch.StartNew();
            var outcome = await Logins.RunAsync(ProviderName, request, cancellationToken).ConfigureAwait(false);
            return new ScriptedLoginResult(tag, script, script.Expected(ExchangeTimeout, method.Method), outcome, clock.Elapsed);
        }
        finally
        {
            // The login has ended (or never started): even one that ended before its authorize URL was ready is forgotten.
            _book.Forget(tag);
        }
    }

    /// <summary>
    /// Runs one login and returns its tokens, throwing as <see cref="IOAuthLogins.AuthorizeAsync"/> does
    /// (<see cref="AuthorizationDeniedException"/>, <see cref="AuthorizationTimeoutException"/>, <see cref="TokenExchangeException"/>...).
    /// </summary>
    /// <param name="script">The login's fate; <c>null</c> approves.</param>
    /// <param name="timeout">Its deadline (see <see cref="Request"/>).</param>
    /// <param name="cancellationToken">Cancels the login.</param>
    public async Task<TokenSet> AuthorizeAsync(LoginScript? script = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (tag, request) = Prepare(script ?? LoginScript.Approve(), timeout, null);
        try
        {
            return await Logins.AuthorizeAsync(ProviderName, request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _book.Forget(tag);
        }
    }

    /// <summary>Uses <paramref name="refreshToken"/> at the sandbox through the orchestrator (the sandbox rotates it).</summary>
    /// <exception cref="TokenExchangeException">The sandbox refused (for example a replayed, rotated token: <c>invalid_grant</c>).</exception>
    public Task<TokenSet> RefreshAsync(string refreshToken, CancellationToken cancellationToken = default) =>
        Logins.RefreshAsync(ProviderName, refreshToken, null, cancellationToken);

    /// <summary>
    /// Runs every script, at most <paramref name="concurrency"/> logins at a time, and returns the results in script order.
    /// </summary>
    /// <param name="scripts">One script per login.</param>
    /// <param name="concurrency">Logins in flight at once (at least 1).</param>
    /// <param name="onCompleted">Called (from any thread) as each login ends, for progress displays.</param>
    /// <param name="cancellationToken">Cancels the logins not yet ended (they end as <see cref="LoginCancelled"/>, those not yet started too).</param>
    public async Task<IReadOnlyList<ScriptedLoginResult>> RunManyAsync(
        IEnumerable<LoginScript> scripts, int concurrency, Action<ScriptedLoginResult>? onCompleted = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scripts);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        var all = scripts.ToArray();
        using var slots = new SemaphoreSlim(concurrency, concurrency);

        async Task<ScriptedLoginResult> RunOneAsync(LoginScript script)
        {
            var slot = false;
            try
            {
                // A script still waiting for its slot when the token fires ends as LoginCancelled without starting, as one
                // in flight does: a throw here lost the results of every login that had ended.
                slot = await TakeSlotAsync(slots, cancellationToken).ConfigureAwait(false);
                var result = await RunAsync(script, null, cancellationToken).ConfigureAwait(false);
                onCompleted?.Invoke(result);
                return result;
            }
            finally
            {
                if (slot) slots.Release();
            }
        }

        return await Task.WhenAll(all.Select(RunOneAsync)).ConfigureAwait(false);
    }

    /// <summary>Waits for a slot; false (no slot taken) when <paramref name="cancellationToken"/> fires first.</summary>
    private static async Task<bool> TakeSlotAsync(SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// An Akka <see cref="TestProbe"/> on the orchestrator's actor system, subscribed to every <see cref="LoginEvent"/>:
    /// <c>probe.ExpectMsg&lt;LoginEndedEvent&gt;(e =&gt; ...)</c>, <c>FishForMessage</c> and the rest of the TestKit apply.
    /// </summary>
    /// <param name="testKit">Your test class (an Akka.TestKit.Xunit2 <c>TestKit</c>), which supplies assertions and timeouts.</param>
    /// <param name="name">The probe's actor name.</param>
    public TestProbe CreateEventProbe(TestKitBase testKit, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(testKit);
        var probe = testKit.CreateTestProbe(System, name);
        System.EventStream.Subscribe(probe.Ref, typeof(LoginEvent));
        return probe;
    }

    /// <summary>A self-signed ECDSA P-256 certificate with its key, for the harness client's private_key_jwt assertions.</summary>
    private static X509Certificate2 ClientKeyCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=o8-testkit-client", key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    /// <summary>
    /// Stops the orchestrator (logins in flight end as Cancelled), the browser and the sandbox, and releases the
    /// certificates. Each part is released even when one before it throws; then the failure is rethrown (several as an
    /// <see cref="AggregateException"/>).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        List<Exception>? failures = null;
        async ValueTask ReleaseAsync(Func<ValueTask> release)
        {
            try
            {
                await release().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                (failures ??= []).Add(ex);
            }
        }

        // The orchestrator first: the ends of the logins its disposal cancels reach the recorder (Events) before it goes.
        await ReleaseAsync(() => _flows?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
        await ReleaseAsync(() => { _subscription?.Dispose(); return ValueTask.CompletedTask; }).ConfigureAwait(false);
        await ReleaseAsync(() => { _retirement?.Dispose(); return ValueTask.CompletedTask; }).ConfigureAwait(false);
        await ReleaseAsync(() => _browser?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
        await ReleaseAsync(() => _sandbox?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
        await ReleaseAsync(() => { _certificate?.Dispose(); return ValueTask.CompletedTask; }).ConfigureAwait(false);
        await ReleaseAsync(() => { _clientCertificate?.Dispose(); return ValueTask.CompletedTask; }).ConfigureAwait(false);
        if (failures is [var only]) ExceptionDispatchInfo.Throw(only);
        if (failures is not null) throw new AggregateException("Releasing the harness failed.", failures);
    }

    /// <summary>
    /// Whether <paramref name="script"/>'s login can only end by its deadline as the harness runs logins: in a device-login
    /// harness, a token fault polled through until the deadline too.
    /// </summary>
    private bool EndsByTimeout(LoginScript script) =>
        (script.EndsByTimeout && !(script.Fate == LoginFate.Consent && Options.Browser is not null))
        || (_defaultMethod == LoginMethod.Device && script.Expected(ExchangeTimeout, LoginMethod.Device) == LoginOutcomeKind.TimedOut);

    /// <summary>
    /// The exchange timeout the orchestrator runs with: <see cref="O8TestHarnessOptions.ExchangeTimeout"/> unless
    /// <see cref="O8TestHarnessOptions.ConfigureLogins"/>, the last word, set another (the outcomes are foretold by it).
    /// </summary>
    private TimeSpan ExchangeTimeout => _flows?.Options.Login.ExchangeTimeout ?? Options.ExchangeTimeout;

    /// <summary>
    /// The deadline of a login that can only end by it: <see cref="O8TestHarnessOptions.AbandonTimeout"/>, and in a
    /// device-login harness that much past the sandbox's poll interval: a device login whose deadline is no longer than
    /// the interval is refused before its first poll (nothing could be polled in time), so it would fail, not time out.
    /// </summary>
    private TimeSpan ShortTimeout => _defaultMethod == LoginMethod.Device ? Options.AbandonTimeout + _devicePollInterval : Options.AbandonTimeout;

    private (string Tag, AuthorizationRequest Request) Prepare(LoginScript script, TimeSpan? timeout, IReadOnlyList<string>? scopes)
    {
        ArgumentNullException.ThrowIfNull(script);
        script.Validate();
        if (timeout is { } t) ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(t, TimeSpan.Zero, nameof(timeout));
        var tag = _book.Add(script);
        var request = new AuthorizationRequest(
            Scopes: scopes,
            Timeout: timeout ?? (EndsByTimeout(script) ? ShortTimeout : Options.LoginTimeout),
            ExtraParameters: new Dictionary<string, string>(StringComparer.Ordinal) { ["login_hint"] = tag });
        return (tag, request);
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("The harness was already started.");
        try
        {
            await StartPartsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                await DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The start's own failure is the one the caller must see, with its type; a part that also failed to
                // release (every part was still tried) would only hide it.
            }

            throw;
        }
    }

    private async Task StartPartsAsync(CancellationToken cancellationToken)
    {
        if (!Options.PlainHttp)
        {
            _certificate = await HarnessCertificate.CreateAsync(Options.Certificate, cancellationToken).ConfigureAwait(false);
        }

        var sandboxOptions = new SandboxOptions
        {
            Decide = _book.Decide,
            DeviceUsers = _book.DeviceUser,
            TokenFaults = TokenFaultPlan.PerLogin(_book.FaultFor),
            // A hanging authorize request ends with its login (the browser cancels it); this only bounds strays.
            NeverAnswerLimit = Options.LoginTimeout + Options.AbandonTimeout,
            Dpop = Options.UseDpop ? SandboxDpop.Required : SandboxDpop.Off,
        };
        if (Options.Resource is { } resource) sandboxOptions.ResourceServers.Add(resource.OriginalString);
        Options.ConfigureSandbox?.Invoke(sandboxOptions);
        // On virtual time the sandbox keeps the orchestrator's clock, unless the test gave it one of its own.
        var clock = Options.VirtualTime && sandboxOptions.TimeProvider == TimeProvider.System ? new SchedulerClock() : null;
        if (clock is not null) sandboxOptions.TimeProvider = clock;
        _sandbox = await SandboxAuthorizationServer.StartAsync(sandboxOptions, cancellationToken).ConfigureAwait(false);
        _devicePollInterval = sandboxOptions.DevicePollInterval;
        _book.PushedLoginHint = _sandbox.PushedLoginHint;

        if (Options.Browser is null)
        {
            _browser = new ScriptedBrowser(new ScriptedBrowserOptions
            {
                Script = _book.BrowserScript,
                TrustedRoot = _certificate?.TrustedRoot,
                MaxConcurrency = Options.BrowserConcurrency,
            });
        }

        _flows = await OAuthLogins.StartAsync(setup =>
        {
            setup.SystemName = "o8-testkit";
            setup.ActorSystem = _hostSystem;
            setup.Browser = Options.Browser ?? (IBrowserLauncher?)_browser;
            setup.Options.Listener.Port = 0; // a free port, so harnesses in parallel tests never collide
            setup.Options.Listener.Scheme = Options.PlainHttp ? "http" : "https";
            setup.Options.Certificates.Certificate = _certificate?.Certificate;
            setup.Options.Certificates.AutoCreate = false;
            setup.Options.Login.Timeout = Options.LoginTimeout;
            setup.Options.Login.ExchangeTimeout = Options.ExchangeTimeout;
            if (Options.VirtualTime && _hostSystem is null) setup.Hocon = ConfigurationFactory.ParseString(TestSchedulerHocon);

            Options.ConfigureLogins?.Invoke(setup);
            // Again over whatever HOCON the test's own configuration set (an o8 block replaced it, and the orchestrator
            // started on real time while VirtualTime said otherwise).
            if (Options.VirtualTime && _hostSystem is null)
                setup.Hocon = ConfigurationFactory.ParseString(TestSchedulerHocon).WithFallback(setup.Hocon ?? Config.Empty);
        }, cancellationToken).ConfigureAwait(false);
        clock?.Bind(_flows.System.Scheduler);
        _subscription = _flows.Events.Subscribe(Events);
        _retirement = _flows.Events.Subscribe(new ScriptRetirement(_book));
        // A login that names no method runs as the orchestrator's settings say (a device-login app, or server mode).
        _defaultMethod = _flows.Options.Login.Method;

        var secret = Options.ClientAuthentication is ClientAuthMethod.Basic or ClientAuthMethod.Post
            ? Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32))
            : null;
        // private_key_jwt: a key of the harness's own, its certificate registered with the sandbox client.
        _clientCertificate = Options.ClientAuthentication == ClientAuthMethod.PrivateKeyJwt ? ClientKeyCertificate() : null;
        await _flows.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = Options.ProviderName,
            Issuer = _sandbox.IssuerString,
            ClientId = ClientId,
            ClientSecret = secret,
            ClientCertificate = _clientCertificate,
            ClientAuthentication = Options.ClientAuthentication switch
            {
                ClientAuthMethod.Basic => CoreClientAuthentication.Basic,
                ClientAuthMethod.Post => CoreClientAuthentication.Post,
                ClientAuthMethod.PrivateKeyJwt => CoreClientAuthentication.PrivateKeyJwt,
                _ => CoreClientAuthentication.None,
            },
            DefaultScopes = Options.Scopes.ToList(),
            UseDpop = Options.UseDpop,
            Resource = Options.Resource,
        }, clock), cancellationToken).ConfigureAwait(false);
        // The provider's own redirect URI (the listener's followed by its name) is what the sandbox client registers.
        RedirectUri = await _flows.GetRedirectUriAsync(Options.ProviderName, cancellationToken).ConfigureAwait(false);
        // OriginalString, the escaped form the authorize request carries: ToString() unescapes (a provider named
        // "Azure AD" would register ".../Azure AD" and the sandbox's exact match would refuse ".../Azure%20AD").
        Client = _sandbox.RegisterClient(ClientId, secret, [RedirectUri.OriginalString], Options.ClientAuthentication, _clientCertificate);
    }

    private static InvalidOperationException NotStarted() =>
        new("The harness is not started: use O8TestHarness.StartAsync(...) or call InitializeAsync() first.");
}
