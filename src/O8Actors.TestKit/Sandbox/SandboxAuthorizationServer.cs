using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Callback;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// A real OAuth 2.0 / OpenID Connect authorization server on loopback Kestrel, strict enough that a client passing it
/// is credible: exact redirect URIs, mandatory state and PKCE S256, single-use expiring codes, client authentication,
/// refresh-token rotation with replay detection, RFC 9207 <c>iss</c> and ES256-signed ID tokens. Tests choose each
/// login's fate (<see cref="SandboxOptions.Decide"/>) and inject token-endpoint faults (<see cref="TokenFaults"/>).
/// </summary>
/// <remarks>
/// Endpoints: <c>/authorize</c>, <c>/authorize/consent</c>, <c>/par</c> (RFC 9126), <c>/device/code</c> (RFC 8628), <c>/token</c>,
/// <c>/introspect</c> (RFC 7662), <c>/revoke</c> (RFC 7009), <c>/userinfo</c>, <c>/end-session</c> (OpenID Connect RP-Initiated
/// Logout 1.0), <c>/jwks</c>, <c>/.well-known/openid-configuration</c> and <c>/.well-known/oauth-authorization-server</c>. Nothing is logged.
/// </remarks>
public sealed class SandboxAuthorizationServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SandboxState _state;
    private readonly CancellationTokenSource _stopping;
    private int _disposed;

    private SandboxAuthorizationServer(WebApplication app, SandboxState state, CancellationTokenSource stopping, SandboxEndpoints endpoints)
    {
        _app = app;
        _state = state;
        _stopping = stopping;
        Endpoints = endpoints;
    }

    private SandboxEndpoints Endpoints { get; }

    /// <summary>The sandbox host's services (for tests of how it is hosted).</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>How many pushed authorization requests the sandbox holds (for tests that it forgets expired ones).</summary>
    internal int HeldPushedRequests => _state.PushedRequests.Count;

    /// <summary>
    /// The <c>login_hint</c> of the pushed request <paramref name="requestUri"/> names, or null; the request stays
    /// unredeemed (the harness's browser reads its login's script by it before it opens the authorize URL).
    /// </summary>
    internal string? PushedLoginHint(string requestUri) =>
        _state.PushedRequests.TryGet(requestUri, _state.Time.GetUtcNow(), out var pushed)
        && pushed.Parameters.TryGetValue("login_hint", out var hint) ? hint : null;

    /// <summary>How many unanswered consent pages the sandbox holds (for tests that it forgets expired ones).</summary>
    internal int HeldConsents => _state.PendingConsents.Count;

    /// <summary>How many authorization codes the sandbox holds (for tests that it forgets those that can no longer matter).</summary>
    internal int HeldCodes => _state.Codes.Count;

    /// <summary>How many device codes the sandbox holds (for tests that it forgets expired ones).</summary>
    internal int HeldDeviceCodes => _state.DeviceCodes.Count;

    /// <summary>How many access tokens the sandbox holds (for tests that it forgets expired ones).</summary>
    internal int HeldAccessTokens => _state.Tokens.AccessTokenCount;

    /// <summary>How many refresh tokens the sandbox holds, rotated ones included (for tests that it forgets expired ones).</summary>
    internal int HeldRefreshTokens => _state.Tokens.RefreshTokenCount;

    /// <summary>The issuer identifier (<c>http(s)://127.0.0.1:port</c>), also sent as <c>iss</c> in every authorization response.</summary>
    public Uri Issuer => Endpoints.Issuer;

    /// <summary>The issuer as the exact string used in metadata, <c>iss</c> and ID tokens (no trailing slash).</summary>
    public string IssuerString => Endpoints.IssuerString;

    /// <summary><c>/authorize</c>.</summary>
    public Uri AuthorizationEndpoint => Endpoints.Authorization;

    /// <summary><c>/token</c>.</summary>
    public Uri TokenEndpoint => Endpoints.Token;

    /// <summary><c>/introspect</c> (RFC 7662; the client authenticates as at the token endpoint).</summary>
    public Uri IntrospectionEndpoint => Endpoints.Introspection;

    /// <summary><c>/revoke</c> (RFC 7009; the client authenticates as at the token endpoint).</summary>
    public Uri RevocationEndpoint => Endpoints.Revocation;

    /// <summary>
    /// <c>/userinfo</c> (OpenID Connect Core section 5.3): a protected resource that takes an access token as a bearer
    /// (RFC 6750) and answers its subject, or refuses the token as a resource server does (401 <c>invalid_token</c>, 403
    /// <c>insufficient_scope</c> without <c>openid</c>).
    /// </summary>
    public Uri UserInfoEndpoint => Endpoints.UserInfo;

    /// <summary><c>/device/code</c>: the device authorization endpoint (RFC 8628), whose users follow <see cref="SandboxOptions.DeviceUsers"/>.</summary>
    public Uri DeviceAuthorizationEndpoint => Endpoints.DeviceAuthorization;

    /// <summary><c>/par</c>: the pushed authorization request endpoint (RFC 9126), when <see cref="SandboxOptions.PushedAuthorization"/> is on.</summary>
    public Uri PushedAuthorizationEndpoint => Endpoints.PushedAuthorization;

    /// <summary>
    /// <c>/end-session</c>: the end-session endpoint of OpenID Connect RP-Initiated Logout 1.0, when
    /// <see cref="SandboxOptions.EndSession"/> is on. Each logout it carries out is listed in <see cref="EndedSessions"/>.
    /// </summary>
    public Uri EndSessionEndpoint => Endpoints.EndSession;

    /// <summary><c>/jwks</c>: the ES256 key that signs ID tokens.</summary>
    public Uri JwksUri => Endpoints.Jwks;

    /// <summary><c>/.well-known/openid-configuration</c>.</summary>
    public Uri DiscoveryEndpoint => Endpoints.Discovery;

    /// <summary>What the server has seen and done.</summary>
    public SandboxCounters Counters => _state.Counters;

    /// <summary>
    /// The logouts carried out at <see cref="EndSessionEndpoint"/>, oldest first: a snapshot, safe to read while requests
    /// run. The sandbox keeps no login session (no cookie, nothing per user agent), and a logout revokes no token, as the
    /// specification asks of none; so this list is a logout's whole effect, and what a test asserts on.
    /// </summary>
    public IReadOnlyList<SandboxEndedSession> EndedSessions => _state.EndedSessions.ToArray();

    /// <summary>The token-endpoint fault plan; replace it at any time (<c>null</c> turns faults off).</summary>
    public TokenFaultPlan? TokenFaults
    {
        get => _state.Faults;
        set => _state.Faults = value;
    }

    /// <summary>Starts a server on a loopback port and returns once it accepts connections.</summary>
    /// <param name="options">Listener, clients and behaviour; <c>null</c> for defaults (no clients yet).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<SandboxAuthorizationServer> StartAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SandboxOptions();
        options.Validate();
        // The server's own copy: a test that changes or reuses its options object (for a second server) changes no
        // running server, and nothing unchecked by Validate comes in later.
        options = options.Copy();
        var stopping = new CancellationTokenSource();
        var state = new SandboxState(options, stopping.Token);
        foreach (var client in options.Clients)
        {
            state.Clients.Add(client);
        }

        // An empty builder: no configuration files, environment variables or logging providers, so no secrets can leak into logs.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        // No console lifetime: the sandbox lives inside a test or demo process, whose Ctrl+C and SIGTERM are its own.
        ComponentHostLifetime.Use(builder.Services);
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.ListenAddress, options.Port, listen =>
            {
                if (options.Certificate is { } certificate)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        var app = builder.Build();
        var pushed = new PushedAuthorizationEndpoint(state);
        var authorize = new AuthorizeEndpoint(state, pushed);
        var token = new TokenEndpoint(state);
        var introspection = new IntrospectionEndpoint(state);
        var revocation = new RevocationEndpoint(state);
        var userInfo = new UserInfoEndpoint(state);
        var device = new DeviceAuthorizationEndpoint(state);
        var endSession = new EndSessionEndpoint(state);
        app.Run(context => Dispatch(context, state, authorize, token, introspection, revocation, device, pushed, userInfo, endSession));

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            state.Dispose();
            stopping.Dispose();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var endpoints = new SandboxEndpoints(new Uri(address.Replace("[::]", "[::1]", StringComparison.Ordinal)));
        state.Endpoints = endpoints;
        return new SandboxAuthorizationServer(app, state, stopping, endpoints);
    }

    /// <summary>Registers a client while the server runs.</summary>
    /// <param name="clientId">Client identifier.</param>
    /// <param name="secret">Secret for <see cref="ClientAuthMethod.Basic"/> / <see cref="ClientAuthMethod.Post"/>; <c>null</c> for public clients.</param>
    /// <param name="redirectUris">Redirect URIs, matched exactly.</param>
    /// <param name="authMethod">The token-endpoint authentication method this client must use.</param>
    /// <param name="certificate">
    /// For <see cref="ClientAuthMethod.PrivateKeyJwt"/>: the client's certificate, whose public key checks its assertions.
    /// </param>
    /// <returns>The registration.</returns>
    /// <exception cref="ArgumentException">The registration is inconsistent (no redirect URI, secret or certificate missing or superfluous).</exception>
    /// <exception cref="InvalidOperationException">The id is taken.</exception>
    public SandboxClient RegisterClient(string clientId, string? secret, IEnumerable<string> redirectUris, ClientAuthMethod authMethod,
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        ArgumentNullException.ThrowIfNull(redirectUris);
        var client = new SandboxClient(clientId, secret, redirectUris.ToArray(), authMethod) { Certificate = certificate };
        _state.Clients.Add(client);
        return client;
    }

    /// <summary>Registers <paramref name="client"/> while the server runs (a <c>private_key_jwt</c> client with its <see cref="SandboxClient.PublicKey"/>, for one).</summary>
    /// <exception cref="ArgumentException">The registration is inconsistent.</exception>
    /// <exception cref="InvalidOperationException">The id is taken.</exception>
    public SandboxClient RegisterClient(SandboxClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _state.Clients.Add(client);
        return client;
    }

    /// <summary>Whether an access token was issued here, has not expired and was not revoked (by a code or refresh-token replay).</summary>
    public bool IsActive(string accessToken) => _state.Tokens.IsAccessTokenActive(accessToken, _state.Time.GetUtcNow());

    /// <summary>Whether a refresh token was issued here, has not expired (<see cref="SandboxOptions.RefreshTokenLifetime"/>), was never rotated and was not revoked.</summary>
    public bool IsRefreshTokenActive(string refreshToken) => _state.Tokens.IsRefreshTokenActive(refreshToken, _state.Time.GetUtcNow());

    /// <summary>Whether <paramref name="idToken"/> carries a valid ES256 signature by this server's key.</summary>
    public bool VerifyIdTokenSignature(string idToken) => _state.Signer.Verify(idToken);

    /// <summary>
    /// A logout token (OpenID Connect Back-Channel Logout 1.0 section 2.4) for <paramref name="clientId"/>, signed with this
    /// server's key as its ID tokens are: typed <c>logout+jwt</c>, <c>iss</c>, <c>aud</c>, <c>iat</c> now, <c>exp</c> two
    /// minutes on, a fresh <c>jti</c>, the back-channel logout event, and <paramref name="subject"/> as <c>sub</c> and
    /// <paramref name="sessionId"/> as <c>sid</c> when given (an account's ID token carries its sign-in's <c>sid</c>).
    /// <paramref name="change"/> edits the claims before signing, to play a provider that gets them wrong.
    /// </summary>
    /// <exception cref="ArgumentException">Neither a subject nor a session id.</exception>
    public string CreateLogoutToken(string clientId, string? subject, string? sessionId = null, Action<System.Text.Json.Nodes.JsonObject>? change = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        if (string.IsNullOrEmpty(subject) && string.IsNullOrEmpty(sessionId))
            throw new ArgumentException("A logout token names a subject, a session, or both.", nameof(subject));
        var now = _state.Time.GetUtcNow();
        var claims = new System.Text.Json.Nodes.JsonObject
        {
            ["iss"] = Endpoints.IssuerString,
            ["aud"] = clientId,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(2).ToUnixTimeSeconds(),
            ["jti"] = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
            ["events"] = new System.Text.Json.Nodes.JsonObject { ["http://schemas.openid.net/event/backchannel-logout"] = new System.Text.Json.Nodes.JsonObject() },
        };
        if (!string.IsNullOrEmpty(subject)) claims["sub"] = subject;
        if (!string.IsNullOrEmpty(sessionId)) claims["sid"] = sessionId;
        change?.Invoke(claims);
        return _state.Signer.Sign(claims, "logout+jwt");
    }

    /// <summary>
    /// Posts <paramref name="logoutToken"/> to a client's back-channel logout URI as a provider does (a form with
    /// <c>logout_token</c>, server to server) and returns the answer: 200 when the client logged the session out.
    /// </summary>
    public static async Task<HttpResponseMessage> PostLogoutTokenAsync(HttpClient http, Uri backChannelLogoutUri, string logoutToken,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(backChannelLogoutUri);
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("logout_token", logoutToken)]);
        return await http.PostAsync(backChannelLogoutUri, form, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the listener: hanging and delayed requests end at once, then Kestrel shuts down.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _state.Dispose();
        _stopping.Dispose();
    }

    private static Task Dispatch(HttpContext context, SandboxState state, AuthorizeEndpoint authorize, TokenEndpoint token, IntrospectionEndpoint introspection,
        RevocationEndpoint revocation, DeviceAuthorizationEndpoint device, PushedAuthorizationEndpoint pushed, UserInfoEndpoint userInfo,
        EndSessionEndpoint endSession)
    {
        if (state.Endpoints is null)
        {
            // Only reachable in the instant between binding and publishing the address.
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        }

        return context.Request.Path.Value switch
        {
            SandboxEndpoints.AuthorizePath => authorize.HandleAsync(context),
            SandboxEndpoints.ConsentPath => ConsentPage.HandlePostAsync(context, state, authorize),
            SandboxEndpoints.TokenPath => token.HandleAsync(context),
            SandboxEndpoints.IntrospectionPath => introspection.HandleAsync(context),
            SandboxEndpoints.RevocationPath => revocation.HandleAsync(context),
            SandboxEndpoints.UserInfoPath => userInfo.HandleAsync(context),
            SandboxEndpoints.DeviceAuthorizationPath => device.HandleAsync(context),
            SandboxEndpoints.PushedAuthorizationPath => pushed.HandleAsync(context),
            SandboxEndpoints.EndSessionPath => endSession.HandleAsync(context),
            SandboxEndpoints.DeviceVerificationPath => DeviceVerificationPage.HandleAsync(context),
            SandboxEndpoints.JwksPath => SandboxHttp.WriteJsonAsync(context, 200, state.Signer.Jwks()),
            SandboxEndpoints.OpenIdConfigurationPath or SandboxEndpoints.OAuthServerMetadataPath =>
                SandboxHttp.WriteJsonAsync(context, 200, DiscoveryDocument.Build(state.Endpoints, state.Options)),
            _ => NotFound(context),
        };
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }
}
