using O8Actors.Providers;

namespace O8Actors;

/// <summary>
/// Starts logins. One instance serves any number of concurrent logins through one redirect listener.
/// Get it from DI (<c>WithOAuthLogins</c>) or start one without a host with <see cref="OAuthLogins.StartAsync"/>.
/// </summary>
public interface IOAuthLogins
{
    /// <summary>
    /// Runs one login with <paramref name="provider"/>: opens the browser, waits for the redirect, exchanges the code.
    /// </summary>
    /// <param name="provider">A registered provider's name.</param>
    /// <param name="request">Scopes, timeout and extra parameters; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the login (it ends as Cancelled and the task throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The tokens. When the login identifies an account (a validated ID token's subject, or
    /// <see cref="AuthorizationRequest.AccountKey"/>), they are also stored as that account's, for <see cref="GetAccessTokenAsync"/>.</returns>
    /// <exception cref="AuthorizationTimeoutException">The browser did not come back in time.</exception>
    /// <exception cref="AuthorizationDeniedException">The provider or the user refused.</exception>
    /// <exception cref="TokenExchangeException">The code could not be exchanged.</exception>
    /// <exception cref="IssuerMismatchException">The redirect's issuer did not match (RFC 9207).</exception>
    /// <exception cref="IdTokenValidationException">The ID token failed OpenID Connect validation (no tokens are returned).</exception>
    /// <exception cref="TooManyPendingLoginsException">Refused at once: <c>o8.login.max-pending</c> (or the per-partition limit) is reached.</exception>
    /// <exception cref="RedirectMismatchException">The response arrived on another provider's redirect path (mix-up defence).</exception>
    /// <exception cref="BrowserMismatchException">Server mode: the callback came from another browser than the one that began the login.</exception>
    /// <exception cref="UnknownProviderException">No provider of that name is registered.</exception>
    /// <exception cref="ProviderBusyException">The provider's queue of token requests was full.</exception>
    /// <exception cref="AuthorizationFailedException">Another failure (provider unavailable, listener down). Every login failure
    /// above derives from <see cref="OAuthFlowException"/>: catch that for any of them.</exception>
    /// <exception cref="InvalidOperationException">Refused at once in server mode (<c>o8.listener.external-redirect-uri</c>) for a
    /// login that may use the browser: it could not be bound to the user's browser. Start it with <c>IOAuthConnector.BeginAsync</c>
    /// (O8Actors.Hosting); only a device login (<see cref="LoginMethod.Device"/>) runs here in server mode.</exception>
    Task<TokenSet> AuthorizeAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="AuthorizeAsync"/>, but returns the outcome instead of throwing for timeout, denial, failure and
    /// cancellation (<see cref="LoginCancelled"/>, also for a token already cancelled: then nothing is started).
    /// </summary>
    /// <exception cref="InvalidOperationException">Refused at once in server mode for a login that may use the browser, as by
    /// <see cref="AuthorizeAsync"/>.</exception>
    Task<LoginOutcome> RunAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary>Uses a refresh token with <paramref name="provider"/>.</summary>
    /// <remarks>
    /// A provider that binds tokens with DPoP (<c>UseDpop</c>) refreshes only with the token's key, which this method has
    /// not: use the account API (<see cref="GetAccessTokenAsync"/>), whose stored tokens keep their key.
    /// <para>Cancelling <paramref name="cancellationToken"/> before the refresh is sent (already cancelled, or while it waits in
    /// the provider's queue of token requests) keeps the refresh token unspent: it is never sent. Cancelled after it was
    /// sent, the request runs on at the provider: a provider that rotates refresh tokens may then have spent
    /// <paramref name="refreshToken"/> and issued a new one that this call no longer returns, so the refresh token held
    /// may no longer be valid (with reuse detection, using it again may revoke the grant). Refresh through the account API
    /// (<see cref="GetAccessTokenAsync"/>) where that matters: an account's renewal keeps the rotated token whatever its
    /// callers do.</para>
    /// </remarks>
    /// <exception cref="TokenExchangeException">The provider refused or does not support refresh, or binds tokens with DPoP.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<TokenSet> RefreshAsync(string provider, string refreshToken, IReadOnlyList<string>? scopes = null, CancellationToken cancellationToken = default);

    /// <summary>Registers (or replaces) a provider strategy under its <see cref="ProviderStrategy.Name"/>.</summary>
    /// <remarks>
    /// On a node of an O8Actors.Cluster cluster this is refused: its logins and accounts run on whichever node holds them,
    /// each with its own node's providers, so every node registers the same providers at start (in code or configuration).
    /// </remarks>
    /// <exception cref="NotSupportedException">This node's logins are routed across a cluster (O8Actors.Cluster).</exception>
    Task RegisterProviderAsync(ProviderStrategy strategy, CancellationToken cancellationToken = default);

    /// <summary>
    /// The listener's callback URI. Each provider's own redirect URI lies under it
    /// (<see cref="GetRedirectUriAsync(string, CancellationToken)"/>); an <c>OAuthFlow</c> subclass uses this one. A
    /// listener that binds on first use (<c>o8.listener.start = on-first-use</c>) is bound by this call, so the URI is the
    /// real one (port 0's port included).
    /// </summary>
    /// <exception cref="ListenerPortInUseException">The listener binds on first use and its port is taken.</exception>
    /// <exception cref="CertificateNotFoundException">The listener binds on first use and has no certificate.</exception>
    Task<Uri> GetRedirectUriAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The exact redirect URI of a registered provider, the one to register with it: the callback URI followed by the
    /// provider's name (<c>https://localhost:41539/github</c>) unless the provider sets its own
    /// <see cref="ProviderStrategy.RedirectPath"/>. Each provider has its own so that a response from one authorization
    /// server cannot be taken by another provider's login (RFC 9700 section 4.4.2). Binds a listener that binds on first
    /// use, as <see cref="GetRedirectUriAsync(CancellationToken)"/> does.
    /// </summary>
    /// <exception cref="UnknownProviderException">No provider of that name is registered.</exception>
    Task<Uri> GetRedirectUriAsync(string provider, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether the redirect listener takes callbacks, its redirect URI and the logins in flight (for health checks and
    /// status pages). Answers within a few seconds, or throws <c>Akka.Actor.AskTimeoutException</c>. Never binds: a
    /// listener that binds on first use reports itself unbound, without a redirect URI, until then.
    /// </summary>
    Task<O8Status> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A valid access token for <paramref name="account"/>: from its cache while it has more than
    /// <c>o8.tokens.refresh-margin</c> left, else refreshed silently. However many callers ask at once, each account
    /// runs one refresh at a time (and a rotated refresh token is stored before the new access token is handed out).
    /// </summary>
    /// <param name="account">An account from a login (<see cref="LoginSucceeded.Account"/>) or <see cref="GetAccountsAsync"/>.</param>
    /// <param name="scopes">Scopes the token must carry; when the cached token's granted scope lacks one, the refresh asks for exactly
    /// these (RFC 6749 section 6), and its token becomes the account's. Callers that ask for different scopes at the same time get one
    /// refresh per set of scopes, in turn, each the token asked for them.</param>
    /// <param name="options">Whether the browser may open when a silent renewal is impossible; null: silent only.</param>
    /// <param name="cancellationToken">Stops waiting (a refresh already sent still completes and is stored).</param>
    /// <exception cref="InteractionRequiredException">No stored tokens, no refresh token, or the provider refused it (<c>invalid_grant</c>), and
    /// interaction is not allowed, or is allowed in server mode, where the account cannot bind a browser login to the user's
    /// browser (the app signs the user in again with <c>IOAuthConnector.BeginAsync</c>); and, whatever the options, while a
    /// sign-out whose store removal failed is still being retried (the signed-out tokens are not served; sign in again).</exception>
    /// <exception cref="TokenExchangeException">The refresh failed for another reason, and the cached token is expired or does not answer
    /// the request (the cached tokens are kept, and the cached token is served while it is valid: a refresh that fails inside the refresh
    /// margin serves it, unless the refresh was forced, and the next call tries again). Its inner
    /// exception is an <see cref="IdTokenValidationException"/> when the refreshed ID token was refused, a
    /// <see cref="TimeoutException"/> when the token endpoint did not answer in time, and never a custom strategy's own
    /// exception (its type is named in the message), which may quote a token response.</exception>
    /// <exception cref="AuthorizationTimeoutException">An interactive login did not end in time. The caller waits as long as
    /// the login can run (a device login: up to the code's lifetime, at most 30 minutes, unless the login has its own timeout). A
    /// call that joins the account's login already running for another call waits for it up to its own
    /// <see cref="AuthorizationRequest.Timeout"/> (in <see cref="AccessTokenOptions.Login"/>) and one token exchange; the login goes on.</exception>
    Task<AccessToken> GetAccessTokenAsync(OAuthAccount account, IReadOnlyList<string>? scopes = null, AccessTokenOptions? options = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// The signed-in user's claims from the provider's UserInfo endpoint (OpenID Connect Core 1.0 section 5.3), read with
    /// the account's access token (from its cache, renewed when due; DPoP-bound tokens with a proof) and used only after
    /// their <c>sub</c> proved to be the one of the account's validated ID token (section 5.3.4). An endpoint that refuses
    /// the token (401) is asked once more with a renewed one; once it has refused a token just renewed for it, its 401s for
    /// that token reach the caller with no further refresh.
    /// </summary>
    /// <param name="account">An account of an OpenID Connect provider (one that signed in with an ID token).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="UserInfoException">No UserInfo endpoint or no ID token (<see cref="UserInfoFailure.NotSupported"/>, nothing
    /// sent); the token refused twice; an answer about another user (<see cref="UserInfoFailure.SubjectMismatch"/>) or not a JSON
    /// object with a <c>sub</c>; the endpoint unreachable.</exception>
    /// <exception cref="InteractionRequiredException">The account's tokens cannot be renewed silently.</exception>
    Task<UserInfo> GetUserInfoAsync(OAuthAccount account, CancellationToken cancellationToken = default);

    /// <summary>
    /// Handles a back-channel logout (OpenID Connect Back-Channel Logout 1.0): the provider posted
    /// <paramref name="logoutToken"/> to the app's back-channel logout URI because the user's session there ended. The
    /// token is validated (section 2.6: the provider's signature, issuer, this client as audience, fresh, the logout
    /// event, a <c>sub</c> or <c>sid</c>, no <c>nonce</c>), a replay of one already accepted is refused, and every account
    /// of that session is signed out (its tokens revoked and forgotten): the one whose key is the token's <c>sub</c>, and
    /// when the token has a <c>sid</c>, only while that account's ID token belongs to that session. Server mode maps it
    /// with <c>MapOAuthBackChannelLogout</c> (O8Actors.Hosting); an app with its own endpoint calls it with the form's
    /// <c>logout_token</c> and answers 200, 400 on a <see cref="BackChannelLogoutException"/>, or 500 when its
    /// <see cref="BackChannelLogoutException.Failure"/> is <see cref="BackChannelLogoutFailure.Failed"/> (and on any other
    /// exception), so the provider posts the token again; 503 when it is <see cref="BackChannelLogoutFailure.InProgress"/>
    /// (an earlier post of the token is still being carried out), so the provider posts it again later.
    /// </summary>
    /// <param name="provider">The provider the endpoint belongs to (its path names it: one URI per provider).</param>
    /// <param name="logoutToken">The posted <c>logout_token</c>.</param>
    /// <param name="cancellationToken">Stops waiting. Before the token is accepted nothing is done; once it is, its logout
    /// is carried out all the same (its accounts signed out, the token spent): a provider that gives up on its post need not
    /// post it again (Keycloak and Duende do not), and a logout stopped half-way would leave the session signed in.</param>
    /// <exception cref="BackChannelLogoutException">The token was refused (nothing changed): invalid, replayed, or from a
    /// provider that validates no ID tokens here; or it could not be checked (<see cref="BackChannelLogoutFailure.Failed"/>),
    /// or an earlier post of it is still being carried out (<see cref="BackChannelLogoutFailure.InProgress"/>), and a retry
    /// may be carried out.</exception>
    /// <exception cref="UnknownProviderException">No provider by that name.</exception>
    Task<BackChannelLogoutResult> HandleBackChannelLogoutAsync(string provider, string logoutToken, CancellationToken cancellationToken = default);

    /// <summary>The accounts with stored tokens: of <paramref name="provider"/>, or of every provider when null.</summary>
    Task<IReadOnlyList<OAuthAccount>> GetAccountsAsync(string? provider = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Signs <paramref name="account"/> out: revokes its refresh token and access token at the provider where it supports
    /// RFC 7009, then forgets the account. The account is forgotten even when revocation fails; the result says what the
    /// provider did.
    /// </summary>
    /// <exception cref="AuthorizationFailedException">The token store could not be read, or could not remove the tokens: the
    /// sign-out did not complete (sign out again). After a failed removal the tokens are no longer served, and their removal
    /// is retried. Also (<see cref="LoginFailure.ExchangeTimeout"/>) when the sign-out did not finish within its wait (twice
    /// the account's renewal timeout, more with the provider's session): it goes on in the background.</exception>
    Task<SignOutResult> SignOutAsync(OAuthAccount account, CancellationToken cancellationToken = default);

    /// <summary>
    /// Signs <paramref name="account"/> out as <paramref name="options"/> say: revokes and forgets its tokens, and with
    /// <see cref="SignOutOptions.EndProviderSession"/> also ends the user's browser session at the provider (OpenID Connect
    /// RP-Initiated Logout: the browser opens the provider's <c>end_session_endpoint</c> and comes back to the listener).
    /// The account is forgotten whatever the provider does; the result says what it did with the tokens
    /// (<see cref="SignOutResult.Revocation"/>) and with its session (<see cref="SignOutResult.ProviderSession"/>).
    /// </summary>
    /// <param name="account">The account to sign out.</param>
    /// <param name="options">What to end besides the local copy; null: <see cref="SignOutOptions.Local"/>.</param>
    /// <param name="cancellationToken">Stops waiting (the sign-out itself goes on).</param>
    /// <exception cref="AuthorizationFailedException">The token store could not be read, or could not remove the tokens, as for
    /// <see cref="SignOutAsync(OAuthAccount, CancellationToken)"/> (the provider's session is then not ended).</exception>
    Task<SignOutResult> SignOutAsync(OAuthAccount account, SignOutOptions? options, CancellationToken cancellationToken = default);

    /// <summary>Progress of every login (URL ready, browser launched, callback, exchanged, ended).</summary>
    /// <remarks>
    /// The events of the logins that run on this node. On an O8Actors.Cluster cluster a login runs on whichever node holds
    /// its entity, which is often not the node that began it: its events are published there, and the beginning node sees
    /// only those of its logins that ran on it. Follow a login you began by its <c>PendingLogin.Outcome</c>.
    /// </remarks>
    IObservable<LoginEvent> Events { get; }
}
