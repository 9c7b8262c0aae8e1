namespace O8Actors;

/// <summary>
/// How one login ended. Every login ends in exactly one outcome, delivered once.
/// </summary>
/// <param name="LoginId">The login's public id (safe to log; not the <c>state</c>).</param>
public abstract record LoginOutcome(string LoginId)
{
    /// <summary>The kind of outcome, for metrics and summaries.</summary>
    public abstract LoginOutcomeKind Kind { get; }
}

/// <summary>The kinds of <see cref="LoginOutcome"/>.</summary>
public enum LoginOutcomeKind
{
    /// <summary>The code was exchanged for tokens.</summary>
    Succeeded,
    /// <summary>The provider (or the user) refused.</summary>
    Denied,
    /// <summary>The browser did not come back in time.</summary>
    TimedOut,
    /// <summary>The caller cancelled, or the orchestrator shut down.</summary>
    Cancelled,
    /// <summary>Anything else went wrong (token exchange, issuer check, unknown or unavailable provider, internal error).</summary>
    Failed,
}

/// <summary>The login got its tokens.</summary>
public sealed record LoginSucceeded(string LoginId, TokenSet Tokens) : LoginOutcome(LoginId)
{
    /// <summary>
    /// The account the login signed in and whose tokens are now cached (<see cref="IOAuthLogins.GetAccessTokenAsync"/>):
    /// the ID token's subject, or <see cref="AuthorizationRequest.AccountKey"/>; null when neither was there.
    /// </summary>
    public OAuthAccount? Account { get; init; }

    /// <inheritdoc />
    public override LoginOutcomeKind Kind => LoginOutcomeKind.Succeeded;
}

/// <summary>The provider answered with an <c>error</c> (RFC 6749 section 4.1.2.1).</summary>
public sealed record LoginDenied(string LoginId, string Error, string? ErrorDescription) : LoginOutcome(LoginId)
{
    /// <inheritdoc />
    public override LoginOutcomeKind Kind => LoginOutcomeKind.Denied;
}

/// <summary>
/// The browser did not come back before the deadline; in a device login, the user did not approve the code in time. The
/// caller's <see cref="AuthorizationTimeoutException"/> says which, or that the deadline came before the login had an
/// authorize URL to open.
/// </summary>
public sealed record LoginTimedOut(string LoginId, TimeSpan Timeout) : LoginOutcome(LoginId)
{
    /// <inheritdoc />
    public override LoginOutcomeKind Kind => LoginOutcomeKind.TimedOut;

    /// <summary>What the login was still waiting for when its deadline passed, which its caller's exception names.</summary>
    internal TimedOutWaiting Waiting { get; init; }
}

/// <summary>What a login that timed out was still waiting for.</summary>
internal enum TimedOutWaiting
{
    /// <summary>The browser's redirect back from the provider, its authorize URL handed out.</summary>
    Redirect,

    /// <summary>The user's answer to a device code (RFC 8628).</summary>
    DeviceApproval,

    /// <summary>The provider's device code: no user was shown one.</summary>
    DeviceCode,

    /// <summary>
    /// Its authorize URL: the listener's start (on first use), the provider's discovery or its pushed authorization
    /// request took longer than the login's timeout, and no browser was opened.
    /// </summary>
    AuthorizeUrl,
}

/// <summary>The caller cancelled the login, or the orchestrator stopped.</summary>
public sealed record LoginCancelled(string LoginId) : LoginOutcome(LoginId)
{
    /// <inheritdoc />
    public override LoginOutcomeKind Kind => LoginOutcomeKind.Cancelled;

    /// <summary>
    /// Ended because O8Actors stopped where the login ran (the flows supervisor drained: an app's dispose, a host's or a
    /// cluster node's shutdown), not by its caller. An account's caller on another node, which did not cancel, is told
    /// so as its node going away, not as a cancellation of its own.
    /// </summary>
    internal bool ByShutdown { get; init; }

    /// <summary>Equal to another cancellation of the same login, however it came about (<see cref="ByShutdown"/> is how it was delivered, not which outcome it is).</summary>
    public bool Equals(LoginCancelled? other) => other is not null && LoginId == other.LoginId;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(typeof(LoginCancelled), LoginId);
}

/// <summary>The login failed; <see cref="Reason"/> is safe to show and to log (it never holds a secret).</summary>
/// <param name="LoginId">The login's public id.</param>
/// <param name="Failure">What kind of failure.</param>
/// <param name="Reason">A human-readable reason without secrets.</param>
/// <param name="ProviderError">The provider's <c>error</c> code, when it sent one.</param>
public sealed record LoginFailed(string LoginId, LoginFailure Failure, string Reason, string? ProviderError = null)
    : LoginOutcome(LoginId)
{
    /// <summary>
    /// A <see cref="LoginFailure.ListenerUnavailable"/> login's reason as the exception the listener's bind failed with
    /// (<see cref="ListenerPortInUseException"/>, <see cref="CertificateNotFoundException"/>, <see cref="ListenerStartException"/>),
    /// so that <c>AuthorizeAsync</c> throws what a start would have thrown; null otherwise.
    /// </summary>
    internal OAuthFlowException? ListenerFailure { get; init; }

    /// <summary>
    /// What failed the token request, as the provider's side caught it (an <see cref="OAuthFlow"/> subclass's own
    /// exception inside, or .NET's network error), for the exception <c>AuthorizeAsync</c> throws to carry as its
    /// <c>InnerException</c>: the reason alone says what failed, this says where. In this process only: not printed
    /// (records print public members), not published, not sent to another node, and not given to an account's callers
    /// (their exception travels in a message, which dead letters would log in full).
    /// </summary>
    internal Exception? Cause { get; init; }

    /// <inheritdoc />
    public override LoginOutcomeKind Kind => LoginOutcomeKind.Failed;
}

/// <summary>Why a login failed.</summary>
public enum LoginFailure
{
    /// <summary>The token endpoint refused the code or answered with something unusable.</summary>
    TokenExchange,
    /// <summary>The token endpoint did not answer within the exchange timeout.</summary>
    ExchangeTimeout,
    /// <summary>The callback's <c>iss</c> was missing or did not match the provider (RFC 9207).</summary>
    IssuerMismatch,
    /// <summary>
    /// The callback had neither <c>code</c> nor <c>error</c>, or it came before the login's authorize URL was handed out
    /// (no genuine redirect can carry the state then; the state is spent and the login cannot finish).
    /// </summary>
    InvalidCallback,
    /// <summary>
    /// The provider could not build an authorize URL (discovery failed, bad configuration; a browser login on a public
    /// client whose provider redeems codes only for clients that authenticate, such as GitHub without its secret, is
    /// refused so before any browser opens), or its actor was stopped
    /// after failing repeatedly (its strategy threw more than 10 times within a minute): then every login and refresh
    /// waiting on it ends with this at once, the reason naming the provider, until it is registered again.
    /// </summary>
    ProviderUnavailable,
    /// <summary>The redirect listener is not available.</summary>
    ListenerUnavailable,
    /// <summary>No provider of that name is registered.</summary>
    UnknownProvider,
    /// <summary>O8Actors itself failed (a login's actor stopped without an outcome): a bug, not the provider's fault.</summary>
    Internal,
    /// <summary>The ID token failed validation (signature, algorithm, issuer, audience, lifetime or nonce); no tokens were returned.</summary>
    IdTokenInvalid,
    /// <summary>The browser launcher refused the authorize URL (not https, nor http on loopback); no browser was started.</summary>
    UnsafeAuthorizeUrl,
    /// <summary>Refused at start: <c>o8.login.max-pending</c> logins were already running (see <see cref="TooManyPendingLoginsException"/>).</summary>
    TooManyPendingLogins,
    /// <summary>Refused at start: <c>o8.login.max-pending-per-partition</c> logins of the same <see cref="AuthorizationRequest.Partition"/> were already running.</summary>
    TooManyPendingLoginsInPartition,
    /// <summary>The provider's token-request queue was full (<c>o8.providers.max-queued-exchanges</c>); the request (the code, or a device login's request) was not sent.</summary>
    ExchangeQueueFull,
    /// <summary>
    /// The callback arrived on another provider's redirect path, so another authorization server sent it (mix-up, RFC 9700
    /// section 4.4); its code was not used. See <see cref="RedirectMismatchException"/>.
    /// </summary>
    RedirectMismatch,
    /// <summary>
    /// Server mode: the callback came from a browser that did not start this login (its browser-binding secret was
    /// missing or wrong, RFC 9700 section 4.7.1); the code was not exchanged (see <see cref="BrowserMismatchException"/>).
    /// </summary>
    BrowserMismatch,
    /// <summary>
    /// Cluster server mode (O8Actors.Cluster): the node that ran this login left the cluster or died before the login
    /// ended, or sharding moved the login elsewhere while it waited for its callback (a rebalance as a node joined or
    /// left: a login waiting for its browser lives in memory and cannot move); its late callback gets the "expired or
    /// unknown" page. Start the sign-in again.
    /// </summary>
    NodeLost,
}
