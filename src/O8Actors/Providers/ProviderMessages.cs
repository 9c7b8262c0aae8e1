namespace O8Actors.Providers;

// Messages to and from provider actors. The ProviderRegistryActor forwards the per-login ones to the provider named
// in them, keeping the original sender, so a FlowActor never needs to resolve a provider's address itself.

/// <summary>Registers (or replaces) a provider strategy; answered with <see cref="ProviderRegistered"/>.</summary>
internal sealed record RegisterProvider(ProviderStrategy Strategy);

/// <summary>A provider is ready to take logins.</summary>
internal sealed record ProviderRegistered(string Provider);

/// <summary>
/// Removes a provider, but only while <paramref name="Strategy"/> is the one registered under its name (a later
/// registration of the name stays); answered with <see cref="ProviderUnregistered"/>. With a
/// <paramref name="Successor"/> of the same name, that strategy takes the name over in the same step, so no request
/// in between finds the name unknown.
/// </summary>
internal sealed record UnregisterProvider(ProviderStrategy Strategy, ProviderStrategy? Successor = null);

/// <summary>The answer to <see cref="UnregisterProvider"/>: whether the provider was removed.</summary>
internal sealed record ProviderUnregistered(string Provider, bool Removed);

/// <summary>Asks the registry for a provider's redirect path; answered with <see cref="RedirectPathIs"/> or a failure (unknown provider).</summary>
internal sealed record GetRedirectPath(string Provider);

/// <summary>The path of a provider's own redirect URI.</summary>
internal sealed record RedirectPathIs(string Provider, string Path);

/// <summary>Asks a provider for one login's authorize URL; answered with <see cref="AuthorizationPrepared"/> or <see cref="ProviderUnavailable"/>.</summary>
internal sealed record PrepareAuthorization(
    string Provider,
    string LoginId,
    string State,
    string? CodeChallenge,
    Uri RedirectUri,
    IReadOnlyList<string> Scopes,
    IReadOnlyDictionary<string, string> ExtraParameters,
    string? Nonce = null)
{
    /// <summary>
    /// The app turned PKCE off (<c>o8.login.pkce = off</c>): the provider leaves <see cref="CodeChallenge"/> out for a
    /// confidential client, never for a public one (only PKCE protects its codes, RFC 9700 section 2.1.1).
    /// </summary>
    public bool PkceOffForConfidentialClient { get; init; }

    /// <summary>The account the login signs in, as its request names it (null when it names none).</summary>
    public string? AccountKey { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"PrepareAuthorization {{ Provider = {Provider}, LoginId = {LoginId} }}";
}

/// <summary>
/// Asks a provider whether it would prepare a browser login with <paramref name="ExtraParameters"/>: it is registered and
/// resolved, redeems a browser login's code for this client, and can check the step-up asked for. Answered with
/// <see cref="BrowserLoginAccepted"/> or the <see cref="ProviderUnavailable"/> that <see cref="PrepareAuthorization"/>
/// would get. A login whose listener has not bound yet asks this first: a refusal then binds no port, and is not hidden
/// behind a listener that cannot start (no certificate, the port taken), nor keeps an Auto login from its device grant.
/// </summary>
internal sealed record CheckBrowserLogin(string Provider, string LoginId, IReadOnlyDictionary<string, string> ExtraParameters);

/// <summary>The provider would prepare the browser login (<see cref="CheckBrowserLogin"/>).</summary>
internal sealed record BrowserLoginAccepted(string LoginId);

/// <summary>
/// One login's authorize URL to build, once its provider actor has prepared it, and what the login is answered with. A
/// build that sends a request to the provider (a pushed authorization request) waits in the provider actor's token-request
/// queue as this message; sent by a provider actor to itself only (a restarted one hands its queue on this way).
/// </summary>
internal sealed record AuthorizeUrlBuild(
    string Provider,
    string LoginId,
    AuthorizeUrlContext Context,
    ProviderDescriptor Descriptor,
    Uri RedirectUri,
    Dpop.DpopKey? DpopKey,
    bool PkceUsed,
    StepUp.Requirement? RequiredStepUp)
{
    /// <summary>The login's answer once <paramref name="url"/> is built.</summary>
    public AuthorizationPrepared Prepared(Uri url) =>
        new(LoginId, url, Descriptor, RedirectUri, DpopKey, PkceUsed) { RequiredStepUp = RequiredStepUp };

    /// <summary>The login's answer when the URL could not be built, for <paramref name="reason"/> (safe to show).</summary>
    public ProviderUnavailable Unavailable(string reason) =>
        new(LoginId, $"The provider '{Provider}' could not build an authorize URL: {reason}");

    /// <inheritdoc />
    /// <remarks>The context holds the login's state, nonce and code challenge: never printed.</remarks>
    public override string ToString() => $"AuthorizeUrlBuild {{ Provider = {Provider}, LoginId = {LoginId} }}";
}

/// <summary>The authorize URL for one login, what the provider supports, and the exact redirect URI the URL carries.</summary>
/// <param name="LoginId">The login.</param>
/// <param name="AuthorizeUrl">The URL to open.</param>
/// <param name="Descriptor">What the provider supports.</param>
/// <param name="RedirectUri">The redirect URI the URL carries.</param>
/// <param name="DpopKey">The login's DPoP key (RFC 9449) when the provider binds tokens: the exchange signs with it.</param>
/// <param name="PkceUsed">Whether the authorize request carried the login's code challenge: the exchange sends the
/// verifier exactly then (a server refuses a verifier for a code issued without a challenge, RFC 9700 section 2.1.1).</param>
internal sealed record AuthorizationPrepared(string LoginId, Uri AuthorizeUrl, ProviderDescriptor Descriptor, Uri RedirectUri, Dpop.DpopKey? DpopKey = null,
    bool PkceUsed = true)
{
    /// <summary>
    /// The step-up the provider asks of every login (its own <c>max_age</c>, <c>acr_values</c>), which the login's ID
    /// token is held to beside the login's own; null: none.
    /// </summary>
    public StepUp.Requirement? RequiredStepUp { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"AuthorizationPrepared {{ LoginId = {LoginId} }}";
}

/// <summary>
/// Asks a provider for a sign-out's end-session URL (OpenID Connect RP-Initiated Logout 1.0); answered with
/// <see cref="EndSessionPrepared"/> or <see cref="ProviderUnavailable"/> (<c>LoginId</c> = <paramref name="RequestId"/>).
/// </summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="RequestId">The sign-out step it belongs to.</param>
/// <param name="State">The step's <c>state</c>, which the provider sends back.</param>
/// <param name="ListenerRedirectUri">The listener's redirect URI; the provider's own path makes it the post-logout redirect URI.</param>
/// <param name="IdTokenHint">The account's ID token (a secret), or null.</param>
internal sealed record PrepareEndSession(string Provider, string RequestId, string State, Uri ListenerRedirectUri, string? IdTokenHint)
{
    /// <inheritdoc />
    public override string ToString() => $"PrepareEndSession {{ Provider = {Provider}, RequestId = {RequestId} }}";
}

/// <summary>
/// Asks a provider whether it has an end-session endpoint, before a sign-out's step binds a listener that has not bound
/// yet (<c>o8.listener.start = on-first-use</c> or <c>while-needed</c>): a provider without one then binds no port for
/// nothing, and its answer is not hidden behind a listener that cannot start. Answered with <see cref="EndSessionChecked"/>
/// or <see cref="ProviderUnavailable"/> (<c>LoginId</c> = <paramref name="RequestId"/>).
/// </summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="RequestId">The sign-out step it belongs to.</param>
internal sealed record CheckEndSession(string Provider, string RequestId);

/// <summary>Whether the provider has an end-session endpoint (<see cref="CheckEndSession"/>).</summary>
/// <param name="RequestId">The sign-out step.</param>
/// <param name="Supported">True or false when the provider knows; null for an app's own strategy, which only its URL tells.</param>
internal sealed record EndSessionChecked(string RequestId, bool? Supported);

/// <summary>A sign-out's end-session URL, or none when the provider has no end-session endpoint.</summary>
/// <param name="RequestId">The sign-out step.</param>
/// <param name="EndSessionUrl">The URL to open; null: the provider does not support RP-initiated logout.</param>
/// <param name="PostLogoutRedirectUri">Where the provider sends the browser back (the provider's redirect URI).</param>
internal sealed record EndSessionPrepared(string RequestId, Uri? EndSessionUrl, Uri PostLogoutRedirectUri)
{
    /// <inheritdoc />
    public override string ToString() => $"EndSessionPrepared {{ RequestId = {RequestId}, Supported = {EndSessionUrl is not null} }}";
}

/// <summary>
/// Calls the provider's UserInfo endpoint with an account's access token; answered with <see cref="UserInfoFetched"/>
/// (a null document: the provider has none), <see cref="UserInfoFetchFailed"/>, or <see cref="ProviderUnavailable"/>
/// (<c>LoginId</c> = <paramref name="RequestId"/>) for an unknown provider.
/// </summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="RequestId">Correlates the answer.</param>
/// <param name="Context">The access token to present (a secret: <see cref="ToString"/> leaves it out).</param>
internal sealed record FetchUserInfo(string Provider, string RequestId, UserInfoContext Context)
{
    /// <inheritdoc />
    public override string ToString() => $"FetchUserInfo {{ Provider = {Provider}, RequestId = {RequestId} }}";
}

/// <summary>The UserInfo endpoint's answer, a JSON object; null when the provider has no UserInfo endpoint.</summary>
internal sealed record UserInfoFetched(string RequestId, System.Text.Json.JsonElement? Document)
{
    /// <inheritdoc />
    public override string ToString() => $"UserInfoFetched {{ RequestId = {RequestId}, HasDocument = {Document is not null} }}";
}

/// <summary>The UserInfo request failed; <paramref name="Error"/> is what the caller throws.</summary>
internal sealed record UserInfoFetchFailed(string RequestId, UserInfoException Error)
{
    /// <inheritdoc />
    public override string ToString() => $"UserInfoFetchFailed {{ RequestId = {RequestId}, Failure = {Error.Failure} }}";
}

/// <summary>
/// The provider could not serve the request (unknown name, discovery failed, bad configuration, its actor stopped:
/// see <see cref="ProviderRequestFailures"/>).
/// </summary>
/// <param name="LoginId">The login (or request) it answers.</param>
/// <param name="Reason">Why, safe to log and show.</param>
/// <param name="Failure"><see cref="LoginFailure.UnknownProvider"/> when no provider has that name, else <see cref="LoginFailure.ProviderUnavailable"/>.</param>
internal sealed record ProviderUnavailable(string LoginId, string Reason, LoginFailure Failure = LoginFailure.ProviderUnavailable)
{
    /// <summary>
    /// The provider cannot serve a browser login but can serve a device login (a public GitHub client): an Auto login
    /// signs in with the device grant instead of failing.
    /// </summary>
    public bool DeviceMayServe { get; init; }
}

/// <summary>
/// A login that ended (cancelled) no longer wants its exchange, poll or device-code request: one still queued (or
/// waiting for discovery) is dropped unsent and answered with <see cref="CodeExchangeFailed"/> (a device-code request with
/// <see cref="DeviceCodeRefused"/>), so its code stays unspent; one already sent answers as it would.
/// </summary>
internal sealed record WithdrawExchange(string Provider, string LoginId);

/// <summary>Exchanges one code; answered with <see cref="CodeExchanged"/> or <see cref="CodeExchangeFailed"/>.</summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="LoginId">The login it belongs to.</param>
/// <param name="Code">The authorization code (a secret).</param>
/// <param name="CodeVerifier">The PKCE verifier (a secret), if PKCE is on.</param>
/// <param name="RedirectUri">The redirect URI the authorize request carried.</param>
/// <param name="Parent">The login's span: the token request's span is its child (default: none).</param>
/// <param name="Nonce">The login's OpenID Connect nonce (a secret): an ID token must carry it.</param>
/// <param name="Deadline">When the login gives up on this exchange, in the actor system's scheduler time: a request still
/// queued then is dropped unsent (its login has ended; redeeming the code would throw the tokens away).</param>
/// <param name="DpopKey">The login's DPoP key when the provider binds tokens.</param>
/// <param name="AuthenticatedNotBefore">With max_age: the earliest sign-in (<c>auth_time</c>) the ID token may show.</param>
/// <param name="AcceptedAcrValues">With acr_values: the <c>acr</c> values the ID token may show.</param>
internal sealed record ExchangeCode(string Provider, string LoginId, string Code, string? CodeVerifier, Uri RedirectUri,
    System.Diagnostics.ActivityContext Parent = default, string? Nonce = null, DateTimeOffset? Deadline = null, Dpop.DpopKey? DpopKey = null,
    DateTimeOffset? AuthenticatedNotBefore = null, IReadOnlyList<string>? AcceptedAcrValues = null)
{
    /// <summary>The scopes the login asked for (empty: the provider's defaults), as its authorize request named them.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() => $"ExchangeCode {{ Provider = {Provider}, LoginId = {LoginId} }}";
}

/// <summary>The code was exchanged (or, to an account, the refresh answered).</summary>
internal sealed record CodeExchanged(string LoginId, TokenSet Tokens)
{
    /// <summary>
    /// The answer to a login's code exchange, not to an account's refresh: should its login be gone, the tokens are
    /// nobody's and are revoked (<see cref="RevokeUnclaimedTokens"/>). A refresh's never are: a provider that does not
    /// rotate hands back the account's own refresh token.
    /// </summary>
    public bool ForLogin { get; init; }
}

/// <summary>
/// Tokens a login's token request brought that nobody will take: refused (an ID token that failed its checks, unbound
/// tokens on a DPoP login), or late for a login that is gone (stopped from outside: its cluster entity moved or its node
/// stopped, or it crashed; sent by the dead letters' watcher). Live at the provider, so the provider actor that issued
/// them revokes them (RFC 7009); nobody waits for the answer.
/// </summary>
internal sealed record RevokeUnclaimedTokens(TokenSet Tokens)
{
    /// <inheritdoc />
    public override string ToString() => "RevokeUnclaimedTokens";
}

/// <summary>The exchange failed; <paramref name="Reason"/> is safe to log and show, <paramref name="Cause"/> may not be (a strategy's own exception).</summary>
internal sealed record CodeExchangeFailed(string LoginId, LoginFailure Failure, string Reason, string? ProviderError, Exception? Cause = null)
{
    /// <summary>
    /// A device request refused because the provider offers this login no device grant (none at all, or one it cannot
    /// hold to the provider's step-up), while a browser login may still work: an Auto login goes on in the browser. False
    /// for a provider that is gone (its actor stopped) or could not be resolved (the device grant may be there on the next
    /// try), and for a request the login itself got wrong, where the browser would fail the same way.
    /// </summary>
    public bool BrowserMayServe { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"CodeExchangeFailed {{ LoginId = {LoginId}, Failure = {Failure}, Reason = {Reason}, ProviderError = {ProviderError}, Cause = {Diagnostics.Printed.TypeOf(Cause)} }}";
}

/// <summary>Refreshes a token; answered with <see cref="CodeExchanged"/> or <see cref="CodeExchangeFailed"/> (LoginId = <paramref name="RequestId"/>).</summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="RequestId">Correlates the answer.</param>
/// <param name="RefreshToken">The refresh token (a secret).</param>
/// <param name="Scopes">The scopes asked for, or null for the granted ones.</param>
/// <param name="DpopKey">The tokens' DPoP key when the provider binds them.</param>
/// <param name="Deadline">The last moment, in the actor system's scheduler time, at which sending it still gets its answer
/// to a caller that waits (see <see cref="ExchangeTimeouts.RefreshDeadline"/>): a request still queued then is dropped
/// unsent, since a rotating provider would spend the refresh token and the rotated one would be thrown away.</param>
internal sealed record RefreshTokens(string Provider, string RequestId, string RefreshToken, IReadOnlyList<string>? Scopes, Dpop.DpopKey? DpopKey = null,
    DateTimeOffset? Deadline = null)
{
    /// <summary>
    /// The claims of the account's current ID token, when it has validated ones: a refreshed ID token must name the same
    /// issuer and subject (OpenID Connect Core 1.0 section 12.2), checked by the provider actor whatever the strategy.
    /// </summary>
    public IdTokenClaims? PreviousIdToken { get; init; }

    /// <summary>
    /// The waiting caller's token (<see cref="IOAuthLogins.RefreshAsync"/>): cancelled while the request waits in the
    /// provider's queue, it is dropped unsent and unanswered, since nobody takes the answer and a rotating provider would
    /// spend the refresh token for a new one nobody gets. Carried with the request, not sent after it: an Ask may send its
    /// message later than a caller's cancellation would send a withdrawal (a caller on a synchronization context).
    /// </summary>
    public CancellationToken CallerCancellation { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"RefreshTokens {{ Provider = {Provider}, RequestId = {RequestId} }}";
}

/// <summary>
/// From the registry to a provider actor it replaced: finish what is queued and in flight (each code is already spent
/// at the provider, so its answer must reach its login), take nothing new, then stop.
/// </summary>
internal sealed record DrainProvider
{
    public static DrainProvider Instance { get; } = new();
}

/// <summary>
/// Revokes tokens at the provider (RFC 7009), in order (the refresh token first: revoking it usually revokes the access
/// tokens issued with it); answered with <see cref="RevocationDone"/>.
/// </summary>
internal sealed record RevokeTokens(string Provider, string RequestId, IReadOnlyList<RevocationContext> Tokens)
{
    /// <summary>What to revoke of <paramref name="tokens"/>, in that order: the refresh token, then the access token; empty for none.</summary>
    public static IReadOnlyList<RevocationContext> Of(TokenSet? tokens) => Of(tokens, null);

    /// <summary>
    /// What to revoke of two token sets (the second may be null): both refresh tokens first, then both access tokens, each
    /// token once (two copies of one grant share them).
    /// </summary>
    public static IReadOnlyList<RevocationContext> Of(TokenSet? tokens, TokenSet? more)
    {
        var revoke = new List<RevocationContext>(more is null ? 2 : 4);
        Add(revoke, tokens?.RefreshToken, "refresh_token");
        Add(revoke, more?.RefreshToken, "refresh_token");
        Add(revoke, tokens?.AccessToken, "access_token");
        Add(revoke, more?.AccessToken, "access_token");
        return revoke;
    }

    private static void Add(List<RevocationContext> revoke, string? token, string hint)
    {
        if (string.IsNullOrEmpty(token) || revoke.Exists(r => string.Equals(r.Token, token, StringComparison.Ordinal))) return;
        revoke.Add(new RevocationContext(token, hint));
    }

    /// <inheritdoc />
    public override string ToString() => $"RevokeTokens {{ Provider = {Provider}, RequestId = {RequestId}, Tokens = {Tokens.Count} }}";
}

/// <summary>What the provider did with a <see cref="RevokeTokens"/>; <paramref name="Reason"/> is safe to log.</summary>
internal sealed record RevocationDone(string RequestId, RevocationOutcome Outcome, string? Reason = null);

/// <summary>
/// Starts a device login at the provider (RFC 8628 section 3.1); told by the login (its queue watches it, as it watches
/// an exchange), answered with <see cref="DeviceCodeIssued"/> or <see cref="DeviceCodeRefused"/>
/// (<see cref="LoginFailure.ProviderUnavailable"/> when the provider has no device endpoint).
/// </summary>
internal sealed record RequestDeviceCode(string Provider, string LoginId, IReadOnlyList<string> Scopes, IReadOnlyDictionary<string, string> ExtraParameters,
    System.Diagnostics.ActivityContext Parent = default, DateTimeOffset? Deadline = null);

/// <summary>The provider's device authorization response for one login (its device code is a secret).</summary>
/// <param name="LoginId">The login.</param>
/// <param name="Authorization">The device code, user code and verification URI.</param>
/// <param name="DpopKey">The login's DPoP key when the provider binds tokens (RFC 9449): the polls sign with it.</param>
internal sealed record DeviceCodeIssued(string LoginId, DeviceAuthorization Authorization, Dpop.DpopKey? DpopKey = null)
{
    /// <inheritdoc />
    public override string ToString() => $"DeviceCodeIssued {{ LoginId = {LoginId} }}";
}

/// <summary>
/// A <see cref="RequestDeviceCode"/> that brought no device code, and why. Its own type, not a bare
/// <see cref="CodeExchangeFailed"/>: an Auto login asks for a device code while its browser login may be exchanging a
/// code, and the two failures must never be taken for each other.
/// </summary>
/// <param name="Failure">Why (its reason is safe to log and show).</param>
internal sealed record DeviceCodeRefused(CodeExchangeFailed Failure)
{
    /// <summary>
    /// Dropped unsent from the provider's queue because the login's deadline (<see cref="RequestDeviceCode.Deadline"/>)
    /// has passed: the login times out, as its own timer would have ended it.
    /// </summary>
    public bool LoginDeadlinePassed { get; init; }
}

/// <summary>Polls the token endpoint once for a device login; answered with <see cref="DeviceTokenPolled"/> or <see cref="CodeExchangeFailed"/>.</summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="LoginId">The login it belongs to.</param>
/// <param name="DeviceCode">The device code (a secret).</param>
/// <param name="Parent">The login's span.</param>
/// <param name="Deadline">When the login gives up on this poll: a poll still queued then is dropped unsent.</param>
/// <param name="DpopKey">The login's DPoP key when the provider binds tokens.</param>
internal sealed record PollDeviceToken(string Provider, string LoginId, string DeviceCode, System.Diagnostics.ActivityContext Parent = default,
    DateTimeOffset? Deadline = null, Dpop.DpopKey? DpopKey = null)
{
    /// <summary>The scopes the login asked for (empty: the provider's defaults): what tokens whose response names none were granted.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() => $"PollDeviceToken {{ Provider = {Provider}, LoginId = {LoginId} }}";
}

/// <summary>What one poll said.</summary>
internal sealed record DeviceTokenPolled(string LoginId, DeviceTokenPoll Poll)
{
    /// <inheritdoc />
    public override string ToString() => $"DeviceTokenPolled {{ LoginId = {LoginId}, Status = {Poll.Status} }}";
}

/// <summary>
/// Validates a logout token posted to the app's back-channel logout endpoint and refuses a replay; answered with
/// <see cref="LogoutTokenAccepted"/>, <see cref="LogoutTokenRefused"/>, or <see cref="ProviderUnavailable"/>
/// (<c>LoginId</c> = <paramref name="RequestId"/>) for an unknown provider.
/// </summary>
/// <param name="Provider">The registered provider's name (from the endpoint's path).</param>
/// <param name="RequestId">Correlates the answer.</param>
/// <param name="Token">The logout token as posted (a credential: <see cref="ToString"/> leaves it out).</param>
internal sealed record ValidateLogoutToken(string Provider, string RequestId, string Token)
{
    /// <inheritdoc />
    public override string ToString() => $"ValidateLogoutToken {{ Provider = {Provider}, RequestId = {RequestId} }}";
}

/// <summary>The logout token is valid and seen for the first time.</summary>
internal sealed record LogoutTokenAccepted(string RequestId, LogoutToken Token);

/// <summary>The logout token was refused; <paramref name="Error"/> is what the caller throws.</summary>
internal sealed record LogoutTokenRefused(string RequestId, BackChannelLogoutException Error)
{
    /// <inheritdoc />
    public override string ToString() => $"LogoutTokenRefused {{ RequestId = {RequestId}, Failure = {Error.Failure} }}";
}
