using O8Actors.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit;

/// <summary>Where the harness's callback listener gets its TLS certificate.</summary>
public enum HarnessCertificateSource
{
    /// <summary>
    /// A throwaway in-memory CA (<see cref="Certificates.DevelopmentCertificateAuthority"/>), trusted only by the
    /// scripted browser. Works on any machine; real browsers reject it (they need <c>mkcert -install</c>).
    /// </summary>
    DevelopmentCa,

    /// <summary>The mkcert certificate files (created with mkcert when missing); fails when neither is available.</summary>
    Mkcert,

    /// <summary>mkcert when it is installed (or its files exist) and its root CA can be found, otherwise the development CA.</summary>
    PreferMkcert,
}

/// <summary>How an <see cref="O8TestHarness"/> is wired. Every default suits a unit test on a fresh machine.</summary>
public sealed class O8TestHarnessOptions
{
    /// <summary>The name the sandbox provider is registered under (default <c>sandbox</c>).</summary>
    public string ProviderName { get; set; } = "sandbox";

    /// <summary>The listener's certificate (default <see cref="HarnessCertificateSource.DevelopmentCa"/>); ignored with <see cref="PlainHttp"/>.</summary>
    public HarnessCertificateSource Certificate { get; set; } = HarnessCertificateSource.DevelopmentCa;

    /// <summary>Run the callback listener on plain <c>http://localhost</c> (RFC 8252 section 7.3) instead of HTTPS.</summary>
    public bool PlainHttp { get; set; }

    /// <summary>Timeout of logins whose script ends in a callback (default 30 s).</summary>
    public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Timeout of logins that can only end by their deadline (<see cref="LoginScript.EndsByTimeout"/>: abandon,
    /// never answer, consent), default 2 s, so such tests stay fast (a consent login in a <see cref="Browser"/> of your own,
    /// where a human decides, gets <see cref="LoginTimeout"/>). With <see cref="VirtualTime"/>, advance the scheduler instead.
    /// In a harness whose logins are device logins it runs from the sandbox's poll interval
    /// (<see cref="Sandbox.SandboxOptions.DevicePollInterval"/>, 5 s by default): a device login whose deadline is no longer
    /// than the interval fails before its first poll. <see cref="O8TestHarness.Request"/> shows the deadline a script gets.
    /// </summary>
    public TimeSpan AbandonTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a token exchange may take (default 10 s).</summary>
    public TimeSpan ExchangeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Run the orchestrator's actor system on Akka's virtual-time <c>TestScheduler</c>: login deadlines then pass only
    /// when the test calls <see cref="O8TestHarness.Scheduler"/>.<c>Advance(...)</c>, so timeouts are tested without waiting.
    /// The sandbox's wall clock is then that scheduler's too (unless <see cref="ConfigureSandbox"/> gives it one of its
    /// own), and so is the harness provider's: a device login's polls, sent as the scheduler moves, are paced on the clock
    /// they were sent on, and ID tokens are issued and checked on one clock. Timers stay real (a scripted delay takes its time).
    /// The app's own checks and proofs stay on real time: a DPoP proof an <c>AccessTokenHandler</c> signs for a call to the
    /// sandbox carries a real <c>iat</c>, which the sandbox refuses once the test has moved its clock more than five
    /// minutes ahead; such a test gives the sandbox a clock of its own (<see cref="ConfigureSandbox"/>).
    /// </summary>
    public bool VirtualTime { get; set; }

    /// <summary>How many logins the scripted browser drives at once (default 64).</summary>
    public int BrowserConcurrency { get; set; } = 64;

    /// <summary>
    /// How many of the latest login events <see cref="O8TestHarness.Events"/> keeps (default
    /// <see cref="LoginEventRecorder.DefaultMaxEventsKept"/>, at least 1); older ones are forgotten, so a long-lived
    /// harness does not grow with the logins it runs.
    /// </summary>
    public int MaxEventsKept { get; set; } = LoginEventRecorder.DefaultMaxEventsKept;

    /// <summary>
    /// A browser launcher to use instead of the scripted browser, for example <see cref="SystemBrowserLauncher"/> with
    /// <see cref="LoginScript.Consent"/> logins so a human approves in real tabs (they then get <see cref="LoginTimeout"/>,
    /// a human's time, not <see cref="AbandonTimeout"/>). <see cref="O8TestHarness.Browser"/> is then <c>null</c>.
    /// </summary>
    public IBrowserLauncher? Browser { get; set; }

    /// <summary>
    /// How the sandbox client authenticates at the token endpoint (default <c>client_secret_basic</c> with a random
    /// secret; <see cref="ClientAuthMethod.PrivateKeyJwt"/> with a P-256 key and certificate the harness makes).
    /// </summary>
    public ClientAuthMethod ClientAuthentication { get; set; } = ClientAuthMethod.Basic;

    /// <summary>
    /// Whether the harness's provider binds its tokens to a key per login with DPoP (RFC 9449): the provider's
    /// <c>UseDpop</c>, and a sandbox that requires a proof with every token request (<see cref="SandboxDpop.Required"/>,
    /// nonces included; <see cref="ConfigureSandbox"/> may change it).
    /// </summary>
    public bool UseDpop { get; set; }

    /// <summary>
    /// The API the harness's provider asks tokens for (RFC 8707 resource indicator, the provider's <c>Resource</c>); the
    /// sandbox knows it as one of its <see cref="SandboxOptions.ResourceServers"/>, so the access tokens are
    /// audience-restricted to it (and refused at <c>/userinfo</c>). Null (default): none.
    /// </summary>
    public Uri? Resource { get; set; }

    /// <summary>Scopes asked when a login asks for none (default <c>openid</c>, so an ES256 ID token comes back too).</summary>
    public IList<string> Scopes { get; set; } = new List<string> { "openid" };

    /// <summary>Last changes to the sandbox's options (its decision function and fault plan are the harness's; replace them only if you script logins yourself).</summary>
    public Action<SandboxOptions>? ConfigureSandbox { get; set; }

    /// <summary>Last changes to the orchestrator's setup (options, HOCON, logging), applied after the harness's own.</summary>
    public Action<OAuthLoginsSetup>? ConfigureLogins { get; set; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ProviderName);
        if (!Enum.IsDefined(Certificate))
            throw new ArgumentException($"Unknown certificate source {(int)Certificate}.", nameof(Certificate));
        if (!Enum.IsDefined(ClientAuthentication))
            throw new ArgumentException($"Unknown client authentication {(int)ClientAuthentication}.", nameof(ClientAuthentication));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(LoginTimeout, TimeSpan.Zero, nameof(LoginTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AbandonTimeout, TimeSpan.Zero, nameof(AbandonTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ExchangeTimeout, TimeSpan.Zero, nameof(ExchangeTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(BrowserConcurrency, 1, nameof(BrowserConcurrency));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEventsKept, 1, nameof(MaxEventsKept));
        ArgumentNullException.ThrowIfNull(Scopes);
    }
}
