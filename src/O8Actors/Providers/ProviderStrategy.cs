using System.Text.Json;

namespace O8Actors.Providers;

/// <summary>
/// One provider's protocol: how to build its authorize URL, how to exchange a code and refresh a token.
/// A provider actor wraps each strategy; subclass this for a provider the presets do not cover.
/// </summary>
/// <remarks>
/// Strategies are called from one provider actor, possibly with several exchanges in flight at once, so they
/// must be thread-safe (keep them stateless, or cache behind <see cref="ResolveAsync"/>).
/// Never put a token, code, secret or verifier into an exception message.
/// </remarks>
public abstract class ProviderStrategy
{
    /// <summary>The provider's registered name, for example <c>discord</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The path of this provider's own redirect URI (the listener's scheme, host and port with this path), or null for
    /// the default: the callback path followed by the provider's name — <c>https://localhost:41539/github</c> on the
    /// default listener, <c>https://app.example.com/oauth/callback/github</c> in server mode. Register that URI with the
    /// provider. A response that arrives on another provider's path is refused before anything is exchanged (the mix-up
    /// defence of RFC 9700 section 4.4.2). Return the callback path itself to share it (as an <c>OAuthFlow</c> does);
    /// a provider that shares its path is defended only by <c>iss</c> (RFC 9207), so give it a <see cref="KnownIssuer"/>.
    /// </summary>
    public virtual string? RedirectPath => null;

    /// <summary>
    /// The provider's issuer identifier, when it is known before discovery (configured, or the discovery authority);
    /// null when it is not. Used at registration to warn about providers that share a redirect path without an issuer
    /// to tell their responses apart; the <c>iss</c> check itself uses <see cref="ProviderDescriptor.Issuer"/>.
    /// </summary>
    public virtual string? KnownIssuer => null;

    /// <summary>
    /// Whether <see cref="ExchangeCodeAsync"/> enforces a step-up login's requirements: that a validated ID token shows
    /// a sign-in no earlier than <see cref="CodeExchangeContext.AuthenticatedNotBefore"/> (<c>max_age</c>) and an
    /// <c>acr</c> among <see cref="CodeExchangeContext.AcceptedAcrValues"/> (<c>acr_values</c>), failing with
    /// <see cref="IdTokenValidationException"/> otherwise. The default, false, says it does not: a login that asks for
    /// either is then refused before the browser opens (<see cref="LoginFailure.IdTokenInvalid"/>), since nothing would
    /// check that the provider honoured it. The built-in strategies return true.
    /// </summary>
    public virtual bool EnforcesStepUp => false;

    /// <summary>
    /// Whether this is known to be a confidential client (it authenticates with a client secret or key): only such a
    /// client may drop PKCE when the app turns it off (<c>o8.login.pkce = off</c>); a public client's codes have nothing
    /// else to protect them. Unknown for a strategy of the app's own, so false: it keeps PKCE whatever the setting says.
    /// </summary>
    internal virtual bool IsConfidentialClient => false;

    /// <summary>
    /// Whether the provider redeems a browser login's code for this client. False for a public client of a provider
    /// that redeems codes only for clients that authenticate (the GitHub preset without its secret): its browser logins
    /// are refused before the browser opens, and its device logins go on. True for a strategy of the app's own, whose
    /// provider this library does not know.
    /// </summary>
    internal virtual bool RedeemsBrowserLoginCodes => true;

    /// <summary>
    /// The step-up the provider's own authorize parameters ask of every login (<c>max_age</c>, <c>acr_values</c>), which
    /// each login's ID token is held to like a login's own; null when they ask for neither, and for a strategy of the
    /// app's own (whose parameters this library does not know).
    /// </summary>
    internal virtual StepUp.Requirement? RequiredStepUp => null;

    /// <summary>
    /// Whether <see cref="BuildAuthorizeUrlAsync"/> sends a request to the provider (a pushed authorization request,
    /// RFC 9126): the provider actor then runs it as a token request, under <c>max-concurrent-exchanges</c>, so a burst
    /// of logins does not push all at once, and a login that ends while it waits is never pushed. The default, false,
    /// calls it at once: override to return true when your own <see cref="BuildAuthorizeUrlAsync"/> sends a request. The
    /// built-in strategies return true when they push.
    /// </summary>
    public virtual bool AuthorizeUrlSendsARequest => false;

    /// <summary>
    /// Learns what the provider supports (for example from discovery metadata, RFC 8414). Called once by the
    /// provider actor before its first login; the result is cached for the actor's lifetime (an
    /// <see cref="OidcDiscoveryStrategy"/>'s follows its metadata as it is read again).
    /// </summary>
    /// <param name="http">An HTTP client from <c>IHttpClientFactory</c>, with retries.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    public virtual Task<ProviderDescriptor> ResolveAsync(HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult(ProviderDescriptor.Static);

    /// <summary>Builds the full authorize URL for one login, including <c>state</c> and the PKCE challenge.</summary>
    public abstract Uri BuildAuthorizeUrl(AuthorizeUrlContext context);

    /// <summary>
    /// The authorize URL for one login, for a provider that must be asked first: with pushed authorization requests
    /// (RFC 9126) the parameters are POSTed to the provider and the URL carries only <c>client_id</c> and
    /// <c>request_uri</c>. The default is <see cref="BuildAuthorizeUrl"/>.
    /// </summary>
    /// <exception cref="TokenExchangeException">The provider refused the pushed request; the message has its error code.</exception>
    public virtual Task<Uri> BuildAuthorizeUrlAsync(AuthorizeUrlContext context, HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult(BuildAuthorizeUrl(context));

    /// <summary>Exchanges an authorization code for tokens (RFC 6749 section 4.1.3).</summary>
    /// <exception cref="TokenExchangeException">The token endpoint refused or answered with something unusable.</exception>
    public abstract Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken);

    /// <summary>Uses a refresh token (RFC 6749 section 6). The default says the provider does not support it.</summary>
    /// <exception cref="TokenExchangeException">The token endpoint refused.</exception>
    public virtual Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"The provider '{Name}' does not support refresh tokens.");

    /// <summary>
    /// Revokes one token (RFC 7009). Returns false when the provider has no revocation endpoint (the default); throws
    /// when the provider refused or could not be reached.
    /// </summary>
    /// <exception cref="TokenExchangeException">The revocation endpoint answered with an error.</exception>
    public virtual Task<bool> RevokeAsync(RevocationContext context, HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult(false);

    /// <summary>
    /// Calls the provider's UserInfo endpoint (OpenID Connect Core 1.0 section 5.3) with an account's access token and
    /// returns the answer, a JSON object; null when the provider has no UserInfo endpoint (the default). The caller
    /// checks the answer's <c>sub</c> against the account's ID token.
    /// </summary>
    /// <exception cref="UserInfoException">The endpoint refused the token (<see cref="UserInfoFailure.Unauthorized"/>, which
    /// makes the caller try once more with a renewed token), refused otherwise, or answered with something else than a JSON object.</exception>
    public virtual Task<JsonElement?> FetchUserInfoAsync(UserInfoContext context, HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult<JsonElement?>(null);

    /// <summary>
    /// Validates a logout token the provider posted to the app's back-channel logout endpoint (OpenID Connect
    /// Back-Channel Logout 1.0 section 2.6) and returns its claims; null when this provider cannot validate one (the
    /// default: only a provider whose ID tokens are validated against its key set can). The caller refuses replays
    /// (a <c>jti</c> seen before) and signs the named accounts out.
    /// </summary>
    /// <exception cref="BackChannelLogoutException">The token failed a check (<see cref="BackChannelLogoutFailure.InvalidToken"/>)
    /// or the key set could not be read (<see cref="BackChannelLogoutFailure.Failed"/>).</exception>
    public virtual Task<LogoutToken?> ValidateLogoutTokenAsync(string logoutToken, HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult<LogoutToken?>(null);

    /// <summary>
    /// The URL that ends the user's browser session at the provider (OpenID Connect RP-Initiated Logout 1.0), for a
    /// sign-out that asks for it (<see cref="SignOutOptions.EndProviderSession"/>); null when the provider has no
    /// end-session endpoint (the default).
    /// </summary>
    public virtual Task<Uri?> BuildEndSessionUrlAsync(EndSessionContext context, HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult<Uri?>(null);

    /// <summary>
    /// Whether the provider has an end-session endpoint, asked before a sign-out's step binds a listener that has not
    /// bound yet: true or false when the strategy knows (the built-in ones, which read their metadata first when they
    /// have not yet), null for a strategy of the app's own, whose <see cref="BuildEndSessionUrlAsync"/> alone tells.
    /// </summary>
    internal virtual Task<bool?> HasEndSessionEndpointAsync(HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult<bool?>(null);

    /// <summary>
    /// Starts a device login (RFC 8628 section 3.1): asks the provider's device authorization endpoint for a device code
    /// and a user code, with the same client authentication as the token requests. The default says the provider does
    /// not support the device grant.
    /// </summary>
    /// <exception cref="NotSupportedException">The provider has no device authorization endpoint.</exception>
    /// <exception cref="TokenExchangeException">The endpoint refused or answered with something unusable.</exception>
    public virtual Task<DeviceAuthorization> RequestDeviceAuthorizationAsync(DeviceAuthorizationContext context, HttpClient http,
        CancellationToken cancellationToken) =>
        throw new NotSupportedException($"The provider '{Name}' does not support the device authorization grant (RFC 8628): it has no device authorization endpoint.");

    /// <summary>
    /// Polls the token endpoint once for a device login (RFC 8628 section 3.4). <c>authorization_pending</c>,
    /// <c>slow_down</c>, <c>access_denied</c> and <c>expired_token</c> are answers, not exceptions.
    /// </summary>
    /// <exception cref="NotSupportedException">The provider does not support the device grant.</exception>
    /// <exception cref="TokenExchangeException">Any other error, or an unusable answer.</exception>
    public virtual Task<DeviceTokenPoll> PollDeviceTokenAsync(DeviceTokenContext context, HttpClient http, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"The provider '{Name}' does not support the device authorization grant (RFC 8628).");
}

/// <summary>What a provider supports, as learned by <see cref="ProviderStrategy.ResolveAsync"/>.</summary>
/// <param name="Issuer">The provider's issuer identifier, if known.</param>
/// <param name="IssuerParameterSupported">
/// Whether the provider sends <c>iss</c> on the authorization response (RFC 9207). When true and
/// <see cref="Issuer"/> is set, a callback whose <c>iss</c> is missing or different is rejected.
/// </param>
/// <param name="SupportsPkce">Whether to send a PKCE challenge. Sending one to a provider that ignores it is harmless.</param>
/// <param name="UsesDpop">Whether tokens are bound to a per-login key with DPoP (RFC 9449).</param>
public sealed record ProviderDescriptor(string? Issuer = null, bool IssuerParameterSupported = false, bool SupportsPkce = true, bool UsesDpop = false)
{
    /// <summary>Whether the provider has a device authorization endpoint (RFC 8628), so a device login can run.</summary>
    public bool SupportsDeviceAuthorization { get; init; }

    /// <summary>A provider that says nothing about itself: PKCE sent, no issuer check.</summary>
    public static ProviderDescriptor Static { get; } = new();

    /// <summary>Whether a callback must carry a matching <c>iss</c>.</summary>
    public bool RequiresIssuer => IssuerParameterSupported && !string.IsNullOrEmpty(Issuer);
}

/// <summary>What a strategy needs to build one login's authorize URL.</summary>
/// <param name="State">The login's <c>state</c> (add it to the URL as is).</param>
/// <param name="CodeChallenge">The PKCE S256 challenge, or null when PKCE is off for this login.</param>
/// <param name="RedirectUri">The exact redirect URI of the listener.</param>
/// <param name="Scopes">Scopes the caller asked for; empty means the strategy's defaults.</param>
/// <param name="ExtraParameters">Extra authorize parameters the caller asked for.</param>
/// <param name="Descriptor">What <see cref="ProviderStrategy.ResolveAsync"/> learned.</param>
/// <param name="Nonce">
/// The login's OpenID Connect <c>nonce</c> (a secret: never log it). A strategy that validates ID tokens puts it on the
/// URL (the built-in ones do when the provider has a key set); others leave it out.
/// </param>
public sealed record AuthorizeUrlContext(
    string State,
    string? CodeChallenge,
    Uri RedirectUri,
    IReadOnlyList<string> Scopes,
    IReadOnlyDictionary<string, string> ExtraParameters,
    ProviderDescriptor Descriptor,
    string? Nonce = null)
{
    /// <summary>
    /// The thumbprint of the login's DPoP key when the provider binds tokens (RFC 9449 section 10: <c>dpop_jkt</c>, which
    /// binds the code to the key too); null otherwise. The built-in strategies add it to the URL.
    /// </summary>
    public string? DpopKeyThumbprint { get; init; }

    /// <summary>
    /// The account the login signs in, as its request names it (null when it names none): an <see cref="OAuthFlow"/> tells
    /// by it which of the flows sharing its cache name runs the login.
    /// </summary>
    internal string? AccountKey { get; init; }

    /// <summary>The PKCE method; O8Actors only ever uses S256 (RFC 9700 forbids plain).</summary>
    public string CodeChallengeMethod => "S256";

    /// <inheritdoc />
    public override string ToString() => $"AuthorizeUrlContext {{ RedirectUri = {RedirectUri}, Scopes = {string.Join(' ', Scopes)} }}";
}

/// <summary>What a strategy needs to exchange one code.</summary>
/// <param name="Code">The authorization code (a secret: never log it).</param>
/// <param name="CodeVerifier">The PKCE verifier (a secret), or null when PKCE was off.</param>
/// <param name="RedirectUri">The same redirect URI that was in the authorize request (RFC 6749 section 4.1.3).</param>
/// <param name="Nonce">The login's OpenID Connect <c>nonce</c> (a secret), which the ID token must carry; null when none was sent.</param>
public sealed record CodeExchangeContext(string Code, string? CodeVerifier, Uri RedirectUri, string? Nonce = null)
{
    /// <summary>The login's DPoP key when the provider binds tokens (RFC 9449): sign a proof for the token request with it.</summary>
    public Dpop.DpopKey? DpopKey { get; init; }

    /// <summary>
    /// When the login asked for <c>max_age</c> (<see cref="AuthorizationRequest.MaxAge"/>): the earliest sign-in it
    /// accepts. The ID token must carry an <c>auth_time</c> no earlier (within the clock skew); null: not checked.
    /// </summary>
    public DateTimeOffset? AuthenticatedNotBefore { get; init; }

    /// <summary>
    /// When the login asked for <c>acr_values</c> (<see cref="AuthorizationRequest.AcrValues"/>): the ID token's
    /// <c>acr</c> must be one of them; null: not checked.
    /// </summary>
    public IReadOnlyList<string>? AcceptedAcrValues { get; init; }

    /// <summary>
    /// When waiting for the provider's key set must end (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), so that
    /// a key endpoint that hangs fails the login as an unchecked ID token, with the issued tokens revoked, before the
    /// provider actor's timeout would report the token endpoint as silent: by then the code is spent. Null when nobody set one.
    /// </summary>
    internal long? KeysDeadline { get; init; }

    /// <summary>The scopes the login asked for (empty: the provider's defaults), as its authorize request named them.</summary>
    internal IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>Whether the login asked for a step-up (<c>max_age</c> or <c>acr_values</c>) that only a validated ID token can show.</summary>
    internal bool RequiresIdToken => AuthenticatedNotBefore is not null || AcceptedAcrValues is not null;

    /// <inheritdoc />
    public override string ToString() => $"CodeExchangeContext {{ RedirectUri = {RedirectUri} }}";
}

/// <summary>What a strategy needs to refresh a token.</summary>
/// <param name="RefreshToken">The refresh token (a secret).</param>
/// <param name="Scopes">Optional narrower scopes.</param>
public sealed record RefreshContext(string RefreshToken, IReadOnlyList<string>? Scopes = null)
{
    /// <summary>The key the tokens are bound to (RFC 9449), if they are: the refresh request carries a proof signed with it.</summary>
    public Dpop.DpopKey? DpopKey { get; init; }

    /// <summary>
    /// When waiting for the provider's key set must end (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), so that
    /// the tokens the request brought are handed back before the provider actor's timeout: by then the refresh token is
    /// spent. Null when nobody set one.
    /// </summary>
    internal long? KeysDeadline { get; init; }

    /// <inheritdoc />
    public override string ToString() => "RefreshContext { RefreshToken = *** }";
}

/// <summary>What a strategy needs to build a sign-out's end-session URL (OpenID Connect RP-Initiated Logout 1.0).</summary>
/// <param name="State">The sign-out's <c>state</c> (add it to the URL as is; the provider sends it back).</param>
/// <param name="PostLogoutRedirectUri">Where the provider sends the browser back: the provider's redirect URI on the listener.</param>
/// <param name="IdTokenHint">The account's last ID token (a secret: never log it), or null when it has none.</param>
public sealed record EndSessionContext(string State, Uri PostLogoutRedirectUri, string? IdTokenHint)
{
    /// <inheritdoc />
    public override string ToString() => $"EndSessionContext {{ PostLogoutRedirectUri = {PostLogoutRedirectUri}, HasIdTokenHint = {IdTokenHint is not null} }}";
}

/// <summary>What a strategy needs to call the UserInfo endpoint for an account.</summary>
/// <param name="AccessToken">The account's access token (a secret: never log it).</param>
/// <param name="TokenType">Its type, usually <c>Bearer</c>.</param>
public sealed record UserInfoContext(string AccessToken, string TokenType)
{
    /// <summary>The key the token is bound to (RFC 9449); the request then carries <c>Authorization: DPoP</c> and a proof. Null for a bearer token.</summary>
    public Dpop.DpopKey? DpopKey { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"UserInfoContext {{ TokenType = {TokenType}, DpopBound = {DpopKey is not null} }}";
}

/// <summary>One token to revoke (RFC 7009 section 2.1).</summary>
/// <param name="Token">The token (a secret: never log it).</param>
/// <param name="TokenTypeHint"><c>refresh_token</c> or <c>access_token</c>.</param>
public sealed record RevocationContext(string Token, string TokenTypeHint)
{
    /// <inheritdoc />
    public override string ToString() => $"RevocationContext {{ TokenTypeHint = {TokenTypeHint} }}";
}
