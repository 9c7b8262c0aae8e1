using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// How a <see cref="SandboxAuthorizationServer"/> listens and behaves. Read once, at start: the server keeps a copy, so
/// changing (or reusing) this object afterwards changes no server already running. What a running server lets a test
/// change is on the server itself (<see cref="SandboxAuthorizationServer.TokenFaults"/>, <c>RegisterClient</c>); the
/// <see cref="TimeProvider"/> and the functions given here are the test's own, called as they are.
/// </summary>
public sealed class SandboxOptions
{
    private List<SandboxClient> _clients = [];
    private List<string> _resourceServers = [];

    /// <summary>Loopback address to bind (127.0.0.1 by default; <see cref="IPAddress.IPv6Loopback"/> works too). Non-loopback addresses are refused.</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

    /// <summary>Port to bind; 0 (the default) lets the OS choose a free one, so tests can run in parallel.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Server certificate (with private key) for HTTPS, for example from
    /// <see cref="Certificates.DevelopmentCertificateAuthority.IssueServerCertificate"/>; <c>null</c> (the default) serves plain http.
    /// </summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Clients registered at start; more can be added with <c>SandboxAuthorizationServer.RegisterClient</c>.</summary>
    public IList<SandboxClient> Clients => _clients;

    /// <summary>
    /// Decides the fate of each valid authorize request. Defaults to <see cref="SandboxDecisions.ByLoginHint"/>
    /// (<c>login_hint</c> starting with <c>deny</c>, <c>hang</c> or <c>consent</c>; anything else is approved).
    /// </summary>
    public Func<AuthorizeRequestInfo, SandboxDecision> Decide { get; set; } = SandboxDecisions.ByLoginHint;

    /// <summary>
    /// Scripts the user of each device login (RFC 8628). Defaults to <see cref="SandboxDeviceUsers.ByLoginHint"/>
    /// (<c>login_hint</c> starting with <c>deny</c>, <c>expire</c>, <c>hang</c> or <c>slow</c>; anything else approves).
    /// </summary>
    public Func<DeviceRequestInfo, SandboxDeviceUser> DeviceUsers { get; set; } = SandboxDeviceUsers.ByLoginHint;

    /// <summary>The <c>expires_in</c> of device codes (default 10 minutes).</summary>
    public TimeSpan DeviceCodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The <c>interval</c> device logins are told to poll at (default 5 s, RFC 8628's default; whole seconds).</summary>
    public TimeSpan DevicePollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The APIs this server issues audience-restricted tokens for (RFC 8707 resource indicators, absolute URIs). An
    /// authorize request may name one of them as <c>resource</c> (one per request here; the RFC allows several); its
    /// token requests may then repeat it, and the access tokens are for that API alone: introspection shows it as
    /// <c>aud</c>, and <c>/userinfo</c> refuses them (they are not for it). Any other <c>resource</c>, or one a token
    /// request names that the grant does not hold, is refused with <c>invalid_target</c>. Empty by default.
    /// </summary>
    public IList<string> ResourceServers => _resourceServers;

    /// <summary>
    /// Pushed authorization requests (RFC 9126): <see cref="SandboxPushedAuthorization.Off"/> (the default: not
    /// advertised), <see cref="SandboxPushedAuthorization.Optional"/> or <see cref="SandboxPushedAuthorization.Required"/>.
    /// A pushed request's <c>login_hint</c> still reaches <see cref="Decide"/>, but not the authorize URL a scripted browser sees.
    /// </summary>
    public SandboxPushedAuthorization PushedAuthorization { get; set; }

    /// <summary>
    /// DPoP (RFC 9449): <see cref="SandboxDpop.Off"/> (the default: bearer tokens), <see cref="SandboxDpop.Optional"/>
    /// (a token request with a proof gets tokens bound to its key) or <see cref="SandboxDpop.Required"/> (every token
    /// request needs a proof). Bound tokens come back as <c>token_type=DPoP</c>, introspect with <c>cnf.jkt</c>, refresh
    /// only with a proof from the same key, and <c>/userinfo</c> takes them only as <c>Authorization: DPoP</c> with a proof
    /// carrying their hash. A code whose authorize request sent <c>dpop_jkt</c> is redeemed only with that key's proof.
    /// Proofs are checked against <see cref="TimeProvider"/> (their <c>iat</c> within five minutes of it).
    /// </summary>
    public SandboxDpop Dpop { get; set; }

    /// <summary>
    /// Whether DPoP proofs must carry the server's nonce (RFC 9449 section 8; default <c>true</c>, as providers that
    /// guard against pre-made proofs do): a proof without it is answered <c>use_dpop_nonce</c> with the nonce in the
    /// <c>DPoP-Nonce</c> header, so a client's retry with the nonce is exercised.
    /// </summary>
    public bool RequireDpopNonce { get; set; } = true;

    /// <summary>
    /// How long a DPoP nonce is handed out before the server changes it (RFC 9449 section 8; default 5 minutes, on
    /// <see cref="TimeProvider"/>). Proofs may carry the current nonce or, for one more lifetime, the one before it; an
    /// older nonce is answered <c>use_dpop_nonce</c> with the new one in <c>DPoP-Nonce</c>, so a client's retry after a
    /// change is exercised. Set it short (with a fake clock) to test that.
    /// </summary>
    public TimeSpan DpopNonceLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether PKCE (S256) is mandatory (default <c>true</c>). <c>plain</c> is refused either way.</summary>
    public bool RequirePkce { get; set; } = true;

    /// <summary>How long an authorization code can be redeemed (default 60 s).</summary>
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Lifetime announced in <c>expires_in</c> and enforced by introspection (default 1 hour).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a refresh token can be used, on <see cref="TimeProvider"/> (default null: until it is rotated or its
    /// family revoked). Each refresh issues a new one with the whole lifetime again; a refresh with an expired one gets
    /// <c>invalid_grant</c>, so an app's handling of a login that must be renewed interactively can be tested. With a
    /// lifetime set, a long-running sandbox also forgets every token of a login once they have all expired.
    /// </summary>
    public TimeSpan? RefreshTokenLifetime { get; set; }

    /// <summary>
    /// How long a consent page (<see cref="SandboxDecisionKind.ConsentPage"/>) can be answered (default 10 minutes, on
    /// <see cref="TimeProvider"/>, longer than a login waits by default): a later answer gets a 400 page, and a page never
    /// answered is forgotten, as a pushed request's <c>request_uri</c> is after its <c>expires_in</c> (60 s).
    /// </summary>
    public TimeSpan ConsentLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest time a <see cref="SandboxDecisionKind.NeverAnswer"/> request hangs before the server gives up with a 504 (default 5 minutes).</summary>
    public TimeSpan NeverAnswerLimit { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Whether authorization responses carry <c>iss</c> and the metadata says so (RFC 9207; default <c>true</c>). Turn it
    /// off to play a provider that does not (GitHub, Microsoft's <c>common</c>), where only a redirect path of each
    /// provider's own stops the mix-up attack.
    /// </summary>
    public bool SendIssuerParameter { get; set; } = true;

    /// <summary>
    /// Whether the server offers OpenID Connect RP-Initiated Logout 1.0 (default <c>true</c>): <c>/end-session</c> is
    /// served and advertised as <c>end_session_endpoint</c>. Turn it off to play a provider without it (GitHub, plain
    /// OAuth 2.0 servers): the metadata leaves it out and the path answers 404.
    /// </summary>
    public bool EndSession { get; set; } = true;

    /// <summary>
    /// How long ago the user last signed in at the sandbox when an authorize request comes, as its ID tokens' <c>auth_time</c>
    /// says (default zero: every authorize request is a fresh sign-in). With a longer age the sandbox plays a provider
    /// that keeps a session: a request whose <c>max_age</c> (OpenID Connect Core 1.0 section 3.1.2.1) is shorter makes the
    /// user sign in again (<c>auth_time</c> now), unless <see cref="IgnoreMaxAge"/>.
    /// </summary>
    public TimeSpan SessionAge { get; set; }

    /// <summary>
    /// Plays a provider that ignores <c>max_age</c> (default <c>false</c>): the ID token reports the session's old
    /// <c>auth_time</c> (<see cref="SessionAge"/>) whatever the request asked, which a client must refuse.
    /// </summary>
    public bool IgnoreMaxAge { get; set; }

    /// <summary>
    /// The authentication context class of the sandbox's sign-ins, as its ID tokens' <c>acr</c> says. Null (the default):
    /// the first of a request's <c>acr_values</c>, as a provider that honours them (and no <c>acr</c> when none were
    /// asked). Set it to play a provider that signs the user in with another class than the one asked for, which a client
    /// must refuse.
    /// </summary>
    public string? AuthenticationClass { get; set; }

    /// <summary>
    /// How many characters the access tokens the sandbox issues have; null (the default): 43, one random secret. Set it
    /// to play a provider whose access tokens are large (a JWT carrying many claims or groups): each token is its random
    /// secret followed by filler up to this length, so a client's handling of a big token response can be tested. At
    /// least 43.
    /// </summary>
    public int? AccessTokenLength { get; set; }

    /// <summary>Whether refresh tokens are issued (default <c>true</c>).</summary>
    public bool IssueRefreshTokens { get; set; } = true;

    /// <summary>Clock for code and token expiry, delays and id_token times; inject a <c>FakeTimeProvider</c> to move time in tests.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Faults injected into the token endpoint at start; change them later through <see cref="SandboxAuthorizationServer.TokenFaults"/>.</summary>
    public TokenFaultPlan? TokenFaults { get; set; }

    /// <summary>A copy a server keeps (its lists copied too), made at its start after <see cref="Validate"/>.</summary>
    internal SandboxOptions Copy()
    {
        var copy = (SandboxOptions)MemberwiseClone();
        copy._clients = [.. _clients];
        copy._resourceServers = [.. _resourceServers];
        return copy;
    }

    internal void Validate()
    {
        if (!IPAddress.IsLoopback(ListenAddress))
        {
            throw new ArgumentException($"The sandbox binds loopback addresses only, not {ListenAddress}.", nameof(ListenAddress));
        }

        if (SessionAge < TimeSpan.Zero)
        {
            throw new ArgumentException("SessionAge cannot be negative (zero: every authorize request is a fresh sign-in).", nameof(SessionAge));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be between 0 and 65535.");
        }

        if (Certificate is not null && !Certificate.HasPrivateKey)
        {
            throw new ArgumentException("The HTTPS certificate needs its private key.", nameof(Certificate));
        }

        if (AccessTokenLength is { } length)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(length, SandboxHttp.SecretLength, nameof(AccessTokenLength));
        }

        ArgumentNullException.ThrowIfNull(Decide);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(DeviceUsers);
        ArgumentOutOfRangeException.ThrowIfLessThan(DeviceCodeLifetime, TimeSpan.FromSeconds(1), nameof(DeviceCodeLifetime));
        ArgumentOutOfRangeException.ThrowIfLessThan(DevicePollInterval, TimeSpan.FromSeconds(1), nameof(DevicePollInterval));
        // Advertised as RFC 8628's whole-second interval but judged by its exact value, a fraction would slow down a
        // client that keeps the advertised pace.
        if (DevicePollInterval.Ticks % TimeSpan.TicksPerSecond != 0)
            throw new ArgumentException($"DevicePollInterval must be whole seconds (the interval of a device authorization response, RFC 8628 " +
                $"section 3.2, is an integer); it is {DevicePollInterval.TotalSeconds} s.", nameof(DevicePollInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CodeLifetime, TimeSpan.Zero, nameof(CodeLifetime));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AccessTokenLifetime, TimeSpan.Zero, nameof(AccessTokenLifetime));
        if (RefreshTokenLifetime is { } refreshLifetime)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(refreshLifetime, TimeSpan.Zero, nameof(RefreshTokenLifetime));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConsentLifetime, TimeSpan.Zero, nameof(ConsentLifetime));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(NeverAnswerLimit, TimeSpan.Zero, nameof(NeverAnswerLimit));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DpopNonceLifetime, TimeSpan.Zero, nameof(DpopNonceLifetime));
    }
}
