using System.Collections.Concurrent;
using O8Actors.Configuration;
using O8Actors.Providers;

namespace O8Actors;

/// <summary>
/// The port of orchestr8's <c>OAuthFlow</c>: subclass it, give the authorize URL (<see cref="AuthUrl"/>) and the
/// code-for-token exchange (<see cref="GenerateAccessTokenAsync"/>), and call <see cref="AuthorizeAsync(TimeSpan, CancellationToken)"/>.
/// <para>
/// Unlike the original, one instance may run many logins at once (<see cref="AuthorizeForTokensAsync"/>: every call is
/// its own login with its own <c>state</c> and PKCE verifier, routed through one shared HTTPS listener on
/// <see cref="RedirectPort"/>); <c>AuthorizeAsync</c> calls made at once share this flow's account and so one login.
/// O8Actors appends <c>state</c>, <c>code_challenge</c> and <c>code_challenge_method</c> to your URL, so send
/// <see cref="OAuthCodeContext.CodeVerifier"/> as <c>code_verifier</c> in your exchange: a provider that enforces PKCE
/// (Discord, Google) refuses the code without it. Only with a provider that does not know PKCE (and ignores the
/// challenge) does an exchange without the verifier work.
/// </para>
/// <para>
/// Dispose it (<see cref="DisposeAsync"/>) when done: its provider and event subscription leave the orchestrator and,
/// without a <see cref="CacheName"/>, its tokens are forgotten. One that is never disposed keeps them until the
/// orchestrator stops (<see cref="ShutdownSharedAsync"/>, or the end of the process).
/// </para>
/// </summary>
public abstract class OAuthFlow : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, SharedStart> SharedRuntimes = new();
    // The process-wide orchestrators ShutdownSharedAsync is stopping, by port: a fresh start on the port waits for the stop.
    private static readonly ConcurrentDictionary<int, SharedStart> SharedStops = new();
    // The providers of live flows without a CacheName: the shared orchestrator keeps their tokens in memory only.
    private static readonly ConcurrentDictionary<string, byte> InstanceOnlyProviders = new(StringComparer.Ordinal);
    private readonly IOAuthLogins? _logins;

    /// <summary>The orchestrator given to the constructor; null when the flow runs on one started for its port.</summary>
    internal IOAuthLogins? Logins => _logins;
    private readonly string _providerName;
    private readonly bool _instanceOnly;
    private readonly Lock _gate = new();
    private Task<Registration>? _registration;
    // The registration a call last used, so a call that ends after the dispose can forget what it stored.
    private Registration? _lastRegistration;
    private int _calls;
    private int _forgotten;
    private bool _disposed;
    // Cancelled by DisposeAsync: every call under way ends with it (a login waiting for the browser would else wait out its timeout).
    private readonly CancellationTokenSource _disposing = new();
    // The states of the authorize URLs this flow's strategy built whose "waiting" line is still to come (WaitingObserver).
    private readonly ConcurrentDictionary<string, byte> _statesBuilt = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="provider"/> is the provider of a live flow without a cache name (its accounts stay in memory).</summary>
    internal static bool IsInstanceOnly(string provider) => InstanceOnlyProviders.ContainsKey(provider);

    /// <summary>For tests: adjusts the setup of the process-wide orchestrator on a port (plain http, a recording browser).</summary>
    internal static Action<int, OAuthLoginsSetup>? ConfigureShared { get; set; }

    /// <summary>For tests: awaited as a process-wide orchestrator's start begins on a port, so a test can hold it there.</summary>
    internal static Func<int, Task>? WhileSharedStarts { get; set; }

    /// <summary>Creates a flow.</summary>
    /// <param name="clientId">The OAuth client id.</param>
    /// <param name="clientSecret">The OAuth client secret (empty for public clients).</param>
    /// <param name="userScopes">Scopes, as the provider wants them written (e.g. <c>"identify messages.read"</c>).</param>
    /// <param name="redirectPort">The listener's port (default 41539, as the original).</param>
    /// <param name="logins">
    /// The orchestrator to run on. Null (the default) uses a process-wide one on <paramref name="redirectPort"/>,
    /// started on first use with the defaults of <c>hocon/o8.conf</c> and shared by every <c>OAuthFlow</c> on that port;
    /// it binds the port only while a browser login needs it (<see cref="ListenerStart.WhileNeeded"/>; a port of 0 is
    /// bound at its start and held, since a new bind would pick another port than the flow's redirect URI names).
    /// </param>
    protected OAuthFlow(string clientId, string clientSecret, string userScopes, int redirectPort = 41539, IOAuthLogins? logins = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        ClientId = clientId;
        ClientSecret = clientSecret ?? "";
        UserScopes = userScopes ?? "";
        RedirectPort = redirectPort;
        _logins = logins;
        // Virtual call in a constructor on purpose: CacheName is a constant of the subclass, not state it sets up.
#pragma warning disable CA2214
        _instanceOnly = CacheName is not { Length: > 0 };
        _providerName = _instanceOnly ? $"oauthflow:{GetType().Name}:{Guid.NewGuid():N}" : $"oauthflow:{CacheName}";
#pragma warning restore CA2214
        if (!_instanceOnly) LiveFlowNames.Add(_providerName, this);
        RedirectUrl = $"https://localhost:{redirectPort}/";
    }

    /// <summary>The OAuth client id.</summary>
    public string ClientId { get; }

    /// <summary>The OAuth client secret.</summary>
    protected string ClientSecret { get; }

    /// <summary>The scopes to request.</summary>
    public string UserScopes { get; }

    /// <summary>The listener's port.</summary>
    public int RedirectPort { get; }

    /// <summary>
    /// The exact redirect URI (e.g. <c>https://localhost:41539/</c>); register it with the provider. Until the first call
    /// (a login, a token request) it is <c>https://localhost:{redirectPort}/</c>, which is the listener's own with the
    /// process-wide orchestrator; on an orchestrator of your own (another port, port 0, another host or callback path)
    /// it is that orchestrator's once a call has registered the flow: print it after one, or ask the orchestrator.
    /// </summary>
    public string RedirectUrl { get; private set; }

    /// <summary><see cref="RedirectUrl"/> percent-encoded for a query string (the original's <c>quoted_redirect_url</c>).</summary>
    public string QuotedRedirectUrl => Uri.EscapeDataString(RedirectUrl);

    /// <summary>
    /// The provider's authorize URL for this client, without <c>state</c> and PKCE (O8Actors adds them), e.g.
    /// <c>https://discord.com/oauth2/authorize?client_id=…&amp;redirect_uri={QuotedRedirectUrl}&amp;response_type=code&amp;scope=…</c>.
    /// </summary>
    protected abstract string AuthUrl { get; }

    /// <summary>
    /// Exchanges the authorization code for an access token (the original's <c>_generate_access_token</c>).
    /// Throw <see cref="TokenExchangeException"/> when the provider refuses; never put the code or a token in its message.
    /// </summary>
    /// <param name="code">The authorization code.</param>
    /// <param name="context">The PKCE verifier and redirect URI of this login, for providers that want them.</param>
    /// <param name="cancellationToken">Cancelled when the exchange timeout passes.</param>
    /// <returns>The access token; null or empty fails the login with a <see cref="TokenExchangeException"/> (nothing is remembered).</returns>
    protected abstract Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Returns an access token (the original's <c>authorize(timeout)</c>): the cached one of this flow's
    /// <see cref="Account"/> while it is valid (refreshed silently when <see cref="RefreshTokensAsync"/> is overridden),
    /// else from a new login in the browser. Unlike the original, a second call therefore opens no browser, and calls made
    /// at once while none is cached share one login; call <see cref="SignOutAsync"/> first to sign in afresh, or
    /// <see cref="AuthorizeForTokensAsync"/>, which always logs in (each call its own).
    /// </summary>
    /// <remarks>
    /// A token whose lifetime is unknown (the original's exchange returns only the access token, so no <c>expires_in</c>)
    /// is reused until <see cref="SignOutAsync"/>; override <see cref="GenerateTokensAsync"/> to return
    /// <see cref="TokenSet.ExpiresAt"/> (and a refresh token) so that it is renewed in time.
    /// </remarks>
    /// <param name="timeout">How long to wait for the browser to come back, when a login is needed.</param>
    /// <param name="cancellationToken">Cancels the login.</param>
    /// <exception cref="AuthorizationTimeoutException">No redirect within <paramref name="timeout"/> (a call that joined a
    /// login already running for this flow's account waits for it up to its own <paramref name="timeout"/> and the token
    /// exchange's time; the login goes on for the call that started it).</exception>
    /// <exception cref="AuthorizationDeniedException">The user or the provider refused.</exception>
    /// <exception cref="TokenExchangeException">The code could not be exchanged.</exception>
    public async Task<string> AuthorizeAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        // Through the account: calls made at once (a GUI's start-up asking from two places) share one login in the browser,
        // where each used to open its own after its silent try found nothing.
        (await GetAccessTokenAsync(allowInteraction: true, timeout, cancellationToken).ConfigureAwait(false)).Token;

    /// <summary>
    /// A stable name for this flow's provider (for example <c>"discord"</c>), so that its account and cached tokens
    /// outlive this instance: the next run of the app (with a persistent <see cref="ITokenStore"/>, which the process-wide
    /// orchestrator has: <see cref="FileTokenStore"/>) finds them. Null (the default) keeps them for this instance only:
    /// whichever orchestrator runs the flow (the process-wide one, or one handed to the constructor, whatever its store)
    /// holds them in memory, never on disk or in a database, and <see cref="DisposeAsync"/> forgets them.
    /// Two live flows with the same name share one registration: the later replaces the earlier, and when the flow whose
    /// registration stands is disposed, another live flow of the name takes it over. Read once, by this class's constructor
    /// (before a subclass's constructor body has run): return a constant, or a primary constructor's parameter.
    /// A name serves one client of one provider and one set of <see cref="UserScopes"/>: a flow of another client id or
    /// provider, or one that asks for a scope the cached token was not granted, needs a name of its own (or
    /// <see cref="SignOutAsync"/> first), or it is handed the cached token as it is.
    /// </summary>
    protected virtual string? CacheName => null;

    /// <summary>
    /// The key of the account this flow signs in (the port has no validated ID token to name it): <c>"default"</c>, one
    /// user per flow, as in a CLI. Override to keep several users of one provider apart.
    /// </summary>
    protected virtual string AccountKey => "default";

    /// <summary>The account this flow signs in and caches tokens for.</summary>
    public OAuthAccount Account => new(_providerName, AccountKey);

    /// <summary>
    /// A valid access token of <see cref="Account"/>: cached, refreshed silently, or (when
    /// <paramref name="allowInteraction"/>) from a new login in the browser.
    /// </summary>
    /// <exception cref="InteractionRequiredException">No usable tokens and <paramref name="allowInteraction"/> is false.</exception>
    public Task<AccessToken> GetAccessTokenAsync(bool allowInteraction = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Counted(cancellationToken, async cancellationToken =>
        {
            var registration = await RegistrationForCallAsync(cancellationToken).ConfigureAwait(false);
            var options = allowInteraction
                ? new AccessTokenOptions(AllowInteraction: true, Login: new AuthorizationRequest(Timeout: timeout) { AccountKey = AccountKey, Method = LoginMethod.Browser })
                : AccessTokenOptions.Silent;
            return await registration.Logins.GetAccessTokenAsync(Account, null, options, cancellationToken).ConfigureAwait(false);
        });

    /// <summary>Forgets <see cref="Account"/>'s tokens (revoking them needs a provider strategy with a revocation endpoint; a port flow has none).</summary>
    public async Task<SignOutResult> SignOutAsync(CancellationToken cancellationToken = default)
    {
        var registration = await CurrentRegistration().WaitAsync(cancellationToken).ConfigureAwait(false);
        return await registration.Logins.SignOutAsync(Account, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Uses a refresh token (RFC 6749 section 6); the default says the provider does not support it, and an expired
    /// token then needs a new login. Override it together with <see cref="GenerateTokensAsync"/> (which must return the
    /// refresh token) for silent renewal. Never put a token in an exception message.
    /// </summary>
    /// <exception cref="TokenExchangeException">The provider refused (with <c>invalid_grant</c> as its error when the refresh token is no longer valid).</exception>
    protected virtual Task<TokenSet> RefreshTokensAsync(string refreshToken, OAuthCodeContext context, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} does not refresh tokens.");

    /// <summary>
    /// Returns an access token, as the original's <c>authorize(timeout=30)</c>: the cached one of this flow's
    /// <see cref="Account"/> while it is valid (refreshed silently when <see cref="RefreshTokensAsync"/> is overridden),
    /// else from a new login in the browser. <see cref="AuthorizeAsync(TimeSpan, CancellationToken)"/> with the timeout in
    /// seconds: a second call opens no browser; <see cref="AuthorizeForTokensAsync"/> always logs in.
    /// </summary>
    /// <param name="timeoutSeconds">How many seconds to wait for the browser to come back, when a login is needed.</param>
    /// <param name="cancellationToken">Cancels the login.</param>
    /// <exception cref="AuthorizationTimeoutException">No redirect within <paramref name="timeoutSeconds"/> seconds.</exception>
    /// <exception cref="AuthorizationDeniedException">The user or the provider refused.</exception>
    /// <exception cref="TokenExchangeException">The code could not be exchanged.</exception>
    public Task<string> AuthorizeAsync(int timeoutSeconds = 30, CancellationToken cancellationToken = default) =>
        AuthorizeAsync(TimeSpan.FromSeconds(timeoutSeconds), cancellationToken);

    /// <summary>
    /// Always runs one login and returns the whole <see cref="TokenSet"/> your exchange produced; its tokens become
    /// <see cref="Account"/>'s cached ones.
    /// </summary>
    public Task<TokenSet> AuthorizeForTokensAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Counted(cancellationToken, async cancellationToken =>
        {
            var registration = await RegistrationForCallAsync(cancellationToken).ConfigureAwait(false);
            return await registration.Logins.AuthorizeAsync(_providerName,
                new AuthorizationRequest(Timeout: timeout) { AccountKey = AccountKey, Method = LoginMethod.Browser }, cancellationToken).ConfigureAwait(false);
        });

    /// <summary>
    /// Runs a call that may sign in, counted: a flow without a cache name keeps its accounts in memory only while a
    /// call of it may still store tokens. Disposed during such a call (its code being exchanged), the flow leaves the
    /// memory-only rule in place until the last call ends, then forgets what it stored; else the late tokens would go
    /// to the persistent store under a name no later run knows. The call runs on the caller's token linked with the
    /// flow's own, which <see cref="DisposeAsync"/> cancels.
    /// </summary>
    private async Task<T> Counted<T>(CancellationToken callerToken, Func<CancellationToken, Task<T>> call)
    {
        Interlocked.Increment(ref _calls);
        try
        {
            // Linked only when the caller's token can cancel: most calls pass none (AuthorizeAsync asks the cache each time).
            using var linked = callerToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(callerToken, _disposing.Token) : null;
            return await call(linked?.Token ?? _disposing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (callerToken.IsCancellationRequested && e.CancellationToken != callerToken)
        {
            // The caller's own cancel, told with the caller's token: a caller tells it from a timeout by comparing tokens.
            throw new OperationCanceledException(e.Message, e, callerToken);
        }
        finally
        {
            if (Interlocked.Decrement(ref _calls) == 0 && Volatile.Read(ref _disposed)) await ForgetInstanceOnlyAsync(Volatile.Read(ref _lastRegistration)).ConfigureAwait(false);
        }
    }

    /// <summary>Signs out every account this flow's provider has on <paramref name="logins"/>.</summary>
    private async Task SignOutAllAsync(IOAuthLogins logins)
    {
        // This flow's own account too, stored or not: a login its actor runs for a caller ends with its sign-out.
        var accounts = await logins.GetAccountsAsync(_providerName).ConfigureAwait(false);
        foreach (var account in accounts.Append(Account).Distinct())
            await logins.SignOutAsync(account).ConfigureAwait(false);
    }

    /// <summary>
    /// What a best-effort step of a dispose may meet and goes on after: the orchestrator stopped meanwhile, or did not
    /// answer in time, or the step failed as a call of the library does.
    /// </summary>
    private static bool IsBestEffortFailure(Exception e) =>
        e is ObjectDisposedException or OAuthFlowException or OperationCanceledException or TimeoutException or Akka.Actor.AskTimeoutException;

    /// <summary>
    /// Once disposed and no call runs: forgets what a flow without a cache name still holds (the tokens of a login that
    /// ended after the dispose), then lifts the memory-only rule for its provider name. Once only.
    /// </summary>
    private async Task ForgetInstanceOnlyAsync(Registration? registration)
    {
        if (!_instanceOnly || Interlocked.Exchange(ref _forgotten, 1) == 1) return;
        try
        {
            if (registration is not null && registration.Logins is not OAuthLogins { IsDisposed: true })
                await SignOutAllAsync(registration.Logins).ConfigureAwait(false);
        }
        catch (Exception e) when (IsBestEffortFailure(e))
        {
            // Best effort, after the call it follows has its result: the orchestrator stopped meanwhile (and its memory
            // with it), or the account could not be signed out in time (its tokens are in memory only and go with the
            // process).
        }
        finally
        {
            InstanceOnlyProviders.TryRemove(_providerName, out _);
        }
    }

    /// <summary>
    /// Called once per login when its authorize URL is ready and the login waits for the browser to come back. The
    /// default, on the process-wide orchestrator (no <c>logins</c> given: a console app), writes
    /// "Waiting for sign-in at … (Ctrl+C to cancel)" to standard error, so a user whose browser did not open knows
    /// where to go and how to stop; with an orchestrator of your own it writes nothing. Override to show it elsewhere.
    /// Flows that share a <see cref="CacheName"/> share one provider: of them, the flows with a call under way that may
    /// sign in the login's <see cref="Account"/> are called (the caller among them; flows of other
    /// <see cref="AccountKey"/>s are not), else the one whose AuthUrl built the login's URL; once each.
    /// </summary>
    /// <param name="authorizeUrl">The URL the browser was sent to.</param>
    protected virtual void OnWaitingForSignIn(Uri authorizeUrl)
    {
        if (_logins is null) Console.Error.WriteLine(WaitingMessage(authorizeUrl));
    }

    /// <summary>The line <see cref="OnWaitingForSignIn"/> writes.</summary>
    protected static string WaitingMessage(Uri authorizeUrl) => $"Waiting for sign-in at {authorizeUrl} (Ctrl+C to cancel)";

    /// <summary>
    /// The provider's issuer identifier (RFC 9207), if it names itself with <c>iss</c> on the redirect; the default, null,
    /// says it is unknown. Then a redirect that carries <c>iss</c> is refused (<see cref="IssuerMismatchException"/>),
    /// because it names another authorization server (the mix-up of RFC 9700 section 4.4). Override with the exact
    /// issuer when your provider sends <c>iss</c>; a redirect naming any other issuer is then refused.
    /// </summary>
    protected virtual string? Issuer => null;

    /// <summary>
    /// Override to return the whole token response; the default wraps <see cref="GenerateAccessTokenAsync"/>'s access token.
    /// </summary>
    protected virtual async Task<TokenSet> GenerateTokensAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken) =>
        new(await GenerateAccessTokenAsync(code, context, cancellationToken).ConfigureAwait(false), "Bearer");

    /// <summary>
    /// Takes this flow's provider and event subscription off its orchestrator and, without a <see cref="CacheName"/>,
    /// forgets its account's tokens (with one, they stay stored for the next instance). Calls still under way end with
    /// an <see cref="OperationCanceledException"/> (a login waiting for the browser is cancelled; one whose code is being
    /// exchanged has its tokens revoked or never sent), but a <see cref="SignOutAsync"/>, which finishes; later calls
    /// throw <see cref="ObjectDisposedException"/>. It does not throw when the orchestrator is too busy to answer its
    /// steps in time: a sign-out that times out is tried once more, and a provider the orchestrator did not take off in
    /// time stays registered there until it stops.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Task<Registration>? pending;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            pending = _registration;
            _registration = null;
        }

        GC.SuppressFinalize(this);
        // Off its name's live flows at once (whether or not it ever registered): those left may take the name over below.
        var others = _instanceOnly ? [] : LiveFlowNames.Remove(_providerName, this);
        // Set when the sign-out below did not finish: the memory-only rule is lifted only after one more try.
        Registration? notSignedOut = null;
        try
        {
            if (pending is null) return;
            await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!pending.IsCompletedSuccessfully) return; // It never registered: nothing to take off.
            var registration = await pending.ConfigureAwait(false); // completed: no wait
            registration.Dispose();
            if (registration.Logins is OAuthLogins { IsDisposed: true }) return;
            try
            {
                // Nobody can find these tokens after this instance: forget them rather than leave them in the store. The
                // account's own sign-out also ends a login its actor runs for a caller (GetAccessTokenAsync), before
                // that caller is cancelled below: its tokens never reach the store after the memory-only rule is lifted.
                // Best effort: a busy orchestrator that does not answer in time must not keep the provider registered.
                if (_instanceOnly)
                {
                    try
                    {
                        await SignOutAllAsync(registration.Logins).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not ObjectDisposedException && IsBestEffortFailure(e))
                    {
                        notSignedOut = registration;
                    }
                }

                // On any orchestrator that can (the hosted one too): the registration holds this flow and a provider actor.
                // A name another live flow holds too is handed to it (its registration was replaced by this one's) in the
                // same step: a call of that flow in between would find the name unknown.
                if (registration.Logins is Providers.IUnregistersProviders logins)
                    await logins.UnregisterProviderAsync(registration.Strategy, Successor(others, registration.Logins)).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The orchestrator stopped meanwhile, and took the provider and its memory with it.
            }
            catch (Exception e) when (IsBestEffortFailure(e))
            {
                // The orchestrator did not take the provider off in time: it keeps it until it stops. A dispose does not
                // throw for that (nor did the caller's work fail).
            }
        }
        finally
        {
            // The calls still under way end now (a login waiting for the browser with them), after the sign-outs above.
            await _disposing.CancelAsync().ConfigureAwait(false);
            // A call still running may yet store a login's tokens: it lifts the rule when it ends (Counted).
            if (Volatile.Read(ref _calls) == 0) await ForgetInstanceOnlyAsync(notSignedOut).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The strategy of the newest of <paramref name="others"/> (the other live flows of this flow's name) registered on
    /// <paramref name="logins"/>, which takes the name over when this flow's registration, the current one, goes.
    /// </summary>
    private static ProviderStrategy? Successor(IReadOnlyList<OAuthFlow> others, IOAuthLogins logins)
    {
        foreach (var other in others)
            if (other.RegisteredStrategyOn(logins) is { } strategy) return strategy;
        return null;
    }

    /// <summary>This flow's strategy while it is live and registered on <paramref name="logins"/>.</summary>
    private ProviderStrategy? RegisteredStrategyOn(IOAuthLogins logins)
    {
        lock (_gate)
        {
            if (_disposed || _registration is not { IsCompletedSuccessfully: true }) return null;
        }

        return Volatile.Read(ref _lastRegistration) is { } made && ReferenceEquals(made.Logins, logins) ? made.Strategy : null;
    }

    /// <summary>Stops the process-wide orchestrators that <c>OAuthFlow</c>s without an explicit one started.</summary>
    /// <remarks>
    /// One still starting is stopped once its start ends, and the call that started it throws an
    /// <see cref="OperationCanceledException"/>. The next call of any flow starts a fresh one, once the stop has released
    /// the port. Two shutdowns at once each return once every orchestrator has stopped.
    /// </remarks>
    public static async Task ShutdownSharedAsync()
    {
        foreach (var port in SharedRuntimes.Keys.ToArray())
        {
            if (!SharedRuntimes.TryGetValue(port, out var runtime)) continue;
            // One still starting is stopped once started (it was skipped, and ran on where no later shutdown could find
            // it, holding its port); the call that started it is told it was shut down. Marked, and noted as stopping,
            // before it leaves the table: no call finds it gone and not marked, and a fresh start on its port waits for
            // its stop (its listener holds the port until then).
            runtime.ShutDown = true;
            SharedStops[port] = runtime;
            SharedRuntimes.TryRemove(new KeyValuePair<int, SharedStart>(port, runtime));
        }

        // Every stop under way, a concurrent shutdown's too: whichever call returns, the ports are released.
        await Task.WhenAll(SharedStops.Select(stopping => StopAsync(stopping.Key, stopping.Value))).ConfigureAwait(false);
    }

    private static async Task StopAsync(int port, SharedStart runtime)
    {
        try
        {
            await runtime.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            SharedStops.TryRemove(new KeyValuePair<int, SharedStart>(port, runtime));
        }
    }

    /// <summary>
    /// This flow's registration with its orchestrator, made on first use and made again when it is of no use any more:
    /// when it failed (port taken, no certificate: the next call retries), or when the process-wide orchestrator it was
    /// made on was stopped (<see cref="ShutdownSharedAsync"/>): then a fresh one is started.
    /// </summary>
    private Task<Registration> CurrentRegistration()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var current = _registration;
            // A completed registration is the one RegisterAsync recorded last, just before it completed: no older one is
            // still under way (a registration is only replaced once it has ended).
            var made = current is { IsCompletedSuccessfully: true } ? Volatile.Read(ref _lastRegistration) : null;
            var stale = current is null || current.IsFaulted || current.IsCanceled
                || (made?.Logins is OAuthLogins { IsDisposed: true } && _logins is null);
            if (stale)
            {
                made?.Dispose();
                _registration = current = RegisterAsync();
            }

            return current!;
        }
    }

    /// <summary>
    /// The registration for a call that may sign in. A call that waited for it while the flow was disposed ends there:
    /// the dispose (which cancels calls only after its sign-outs and unregistering) would else see it start a login.
    /// </summary>
    private async Task<Registration> RegistrationForCallAsync(CancellationToken cancellationToken)
    {
        var registration = await CurrentRegistration().WaitAsync(cancellationToken).ConfigureAwait(false);
        if (Volatile.Read(ref _disposed)) throw new OperationCanceledException($"{GetType().Name} was disposed while this call waited for its registration.");
        return registration;
    }

    private async Task<Registration> RegisterAsync()
    {
        if (_instanceOnly) InstanceOnlyProviders.TryAdd(_providerName, 0);
        var logins = _logins ?? await SharedRuntime(RedirectPort).ConfigureAwait(false);
        // The shared orchestrator's redirect URI is its settings' (its port is fixed): asked of the listener, it bound the
        // port and loaded the certificate for a call that needs neither (a cached token, a refresh, a sign-out).
        RedirectUrl = (_logins is null && logins is OAuthLogins { Options.Listener: { Port: > 0 } listener }
            ? listener.RedirectUriOn(listener.Port)
            : await logins.GetRedirectUriAsync().ConfigureAwait(false)).AbsoluteUri;
        var strategy = new OAuthFlowStrategy(this, _providerName);
        await logins.RegisterProviderAsync(strategy).ConfigureAwait(false);
        var waiting = logins.Events.Subscribe(new WaitingObserver(this));
        var registration = new Registration(logins, strategy, waiting);
        Volatile.Write(ref _lastRegistration, registration);
        return registration;
    }

    /// <summary>
    /// Notes, as this flow's strategy builds the URL of the login of <paramref name="state"/>, which flows say that it
    /// waits: of the live flows that share this flow's <see cref="CacheName"/> (one provider name, whose events each of
    /// them hears), those with a call that may sign in under way on the same orchestrator for the login's account
    /// (<paramref name="accountKey"/>, when its request names one), the caller among them; else this flow, whose AuthUrl
    /// built it.
    /// </summary>
    private void NoteWhoSaysItWaits(string state, string? accountKey)
    {
        var noted = false;
        if (!_instanceOnly && Volatile.Read(ref _lastRegistration) is { } mine)
        {
            foreach (var other in LiveFlowNames.Holders(_providerName))
                if (Volatile.Read(ref other._calls) > 0 && (accountKey is null || other.AccountKey == accountKey)
                    && other.RegisteredStrategyOn(mine.Logins) is not null)
                    noted |= other._statesBuilt.TryAdd(state, 0);
        }

        if (!noted) _statesBuilt.TryAdd(state, 0);
    }

    /// <summary>
    /// Whether this flow was noted to say that the login of <paramref name="authorizeUrl"/> waits (by its <c>state</c>),
    /// taking it off the list.
    /// </summary>
    private bool Built(Uri authorizeUrl) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorizeUrl.Query).TryGetValue("state", out var state)
        && _statesBuilt.TryRemove(state.ToString(), out _);

    /// <summary>The orchestrator this flow is registered with, its strategy there, and its subscription for the "waiting" line.</summary>
    private sealed record Registration(IOAuthLogins Logins, ProviderStrategy Strategy, IDisposable Waiting) : IDisposable
    {
        public void Dispose() => Waiting.Dispose();
    }

    private sealed class WaitingObserver(OAuthFlow flow) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value)
        {
            if (value is AuthorizeUrlReadyEvent ready && ready.Provider == flow._providerName && flow.Built(ready.AuthorizeUrl))
                flow.OnWaitingForSignIn(ready.AuthorizeUrl);
        }

        public void OnCompleted() { }

        public void OnError(Exception error) { }
    }

    /// <summary>The process-wide orchestrator on <paramref name="port"/>, started on first use (tests look at it).</summary>
    internal static async Task<OAuthLogins> SharedRuntime(int port)
    {
        var runtime = SharedRuntimes.GetOrAdd(port, StartSharedRuntime);
        OAuthLogins logins;
        try
        {
            logins = await runtime.Started.ConfigureAwait(false);
        }
        catch
        {
            // A runtime that failed to start (port taken, no certificate) is forgotten so the next call can retry.
            SharedRuntimes.TryRemove(new KeyValuePair<int, SharedStart>(port, runtime));
            throw;
        }

        // Shut down while it started: this call does not go on with it (the shutdown stops it), nor start another.
        if (runtime.ShutDown)
            throw new OperationCanceledException("The process-wide orchestrator of OAuthFlow was shut down (ShutdownSharedAsync) while it started.");
        if (!logins.IsDisposed) return logins;
        // One that was stopped meanwhile (ShutdownSharedAsync removes it first, so this is belt and braces) is replaced.
        SharedRuntimes.TryRemove(new KeyValuePair<int, SharedStart>(port, runtime));
        return await SharedRuntimes.GetOrAdd(port, StartSharedRuntime).Started.ConfigureAwait(false);
    }

    /// <summary>
    /// The start of a process-wide orchestrator, run once by whichever call comes first. Its synchronous part (the
    /// settings, the actor system) runs off the caller's thread, so a shutdown meanwhile waits for it without blocking.
    /// </summary>
    private sealed class SharedStart
    {
        private readonly Lazy<Task<OAuthLogins>> _started;
        private readonly Lazy<Task> _stopped;
        private volatile bool _shutDown;

        public SharedStart(Func<Task<OAuthLogins>> start)
        {
            _started = new(() => Task.Run(start));
            _stopped = new(StopOnceAsync);
        }

        public Task<OAuthLogins> Started => _started.Value;

        /// <summary>Stops it once started (one that never started has nothing to stop); once, whoever asks.</summary>
        public Task StopAsync() => _stopped.Value;

        private async Task StopOnceAsync()
        {
            try
            {
                await (await Started.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (OAuthFlowException)
            {
                // It never started; nothing to stop.
            }
        }

        /// <summary>Set by <see cref="ShutdownSharedAsync"/> when it takes this start off the table.</summary>
        public bool ShutDown
        {
            get => _shutDown;
            set => _shutDown = value;
        }
    }

    private static SharedStart StartSharedRuntime(int port)
    {
        // The one before it on the port, still stopping (its listener holds the port until it has stopped), read here,
        // before this start is published: read inside the start, it could be this start itself, stopped by a shutdown
        // right after the call that made it, and the start would wait for its own stop.
        var previous = SharedStops.GetValueOrDefault(port);
        return new(async () =>
        {
            // Its own failure is its shutdown's to report; this start goes on either way.
            if (previous is not null) await previous.StopAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (WhileSharedStarts is { } hold) await hold(port).ConfigureAwait(false);
            return await StartOnPortAsync(port).ConfigureAwait(false);
        });
    }

    private static Task<OAuthLogins> StartOnPortAsync(int port) => OAuthLogins.StartAsync(setup =>
    {
        setup.Options = O8Options.FromConfig();
        setup.Options.Listener.Port = port;
        // Bound while a login needs it, as the original's authorize() held it: a cached token, a refresh or a sign-out
        // binds nothing, so a second copy of a CLI (another terminal, xargs -P) reads its stored token while the first
        // waits for a browser, and a machine without the certificate still serves what needs no browser.
        // A port of 0 is picked afresh at each bind, and a flow's AuthUrl carries the URI it registered with: that one
        // binds once and holds its port, as before.
        setup.Options.Listener.Start = port > 0 ? ListenerStart.WhileNeeded : ListenerStart.AtStart;
        setup.SystemName = $"o8actors-{port}";
        // A console app's flows remember their account across runs (encrypted, in the user's data folder).
        setup.TokenStore = new FileTokenStore();
        ConfigureShared?.Invoke(port, setup);
        // Only flows with a CacheName write there: every orchestrator keeps the others' tokens in memory (O8Bootstrap).
    });

    /// <summary>Adapts an <see cref="OAuthFlow"/> subclass to a <see cref="ProviderStrategy"/>.</summary>
    private sealed class OAuthFlowStrategy(OAuthFlow flow, string name) : ProviderStrategy
    {
        public override string Name => name;

        // The original's one redirect URI (https://localhost:41539/): its AuthUrl was built with RedirectUrl, which the
        // provider has registered. Several subclasses in one process share it; the registry warns when one of them has
        // no Issuer to tell their responses apart.
        public override string? RedirectPath => new Uri(flow.RedirectUrl).AbsolutePath;

        public override string? KnownIssuer => string.IsNullOrEmpty(flow.Issuer) ? null : flow.Issuer;

        // No secret: only PKCE protects its codes, whatever o8.login.pkce says.
        internal override bool IsConfidentialClient => !string.IsNullOrEmpty(flow.ClientSecret);

        // No iss promised (the original knows nothing of RFC 9207), but a present one must name this provider.
        public override Task<ProviderDescriptor> ResolveAsync(HttpClient http, CancellationToken cancellationToken) =>
            Task.FromResult(string.IsNullOrEmpty(flow.Issuer) ? ProviderDescriptor.Static : ProviderDescriptor.Static with { Issuer = flow.Issuer });

        // The original knows no end-session endpoint (BuildEndSessionUrlAsync is not overridden).
        internal override Task<bool?> HasEndSessionEndpointAsync(HttpClient http, CancellationToken cancellationToken) => Task.FromResult<bool?>(false);

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context)
        {
            var builder = new UriBuilder(flow.AuthUrl);
            var query = builder.Query.TrimStart('?');
            flow.NoteWhoSaysItWaits(context.State, context.AccountKey);
            var extra = $"state={Uri.EscapeDataString(context.State)}";
            if (context.CodeChallenge is not null)
                extra += $"&code_challenge={Uri.EscapeDataString(context.CodeChallenge)}&code_challenge_method={context.CodeChallengeMethod}";
            builder.Query = query.Length == 0 ? extra : $"{query}&{extra}";
            return builder.Uri;
        }

        /// <summary>
        /// Whether <paramref name="e"/> may be the provider's answer to the request (whatever exception the subclass made
        /// of it: the original raised its own), which a missing <c>code_verifier</c> causes; not when no answer came (the
        /// endpoint unreachable, a timeout, a cancellation), where a PKCE hint would only mislead.
        /// </summary>
        private static bool RefusedByTheProvider(Exception e) => e is not (OperationCanceledException or TimeoutException
            or HttpRequestException { StatusCode: null } or System.Net.Sockets.SocketException or IOException);

        public override Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken) =>
            flow.RefreshTokensAsync(context.RefreshToken, new OAuthCodeContext(null, new Uri(flow.RedirectUrl), http), cancellationToken);

        public override async Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken)
        {
            var codeContext = new OAuthCodeContext(context.CodeVerifier, context.RedirectUri, http);
            try
            {
                return await flow.GenerateTokensAsync(context.Code, codeContext, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (codeContext.HasUnreadVerifier && RefusedByTheProvider(e))
            {
                // The original's subclass, ported literally, never sends code_verifier; a provider that saw our
                // code_challenge then refuses the code (invalid_grant). Say so, instead of a bare 400.
                throw new TokenExchangeException(
                    $"The token exchange of {flow.GetType().Name} failed ({e.GetType().Name}) and it never read the PKCE verifier. " +
                    "O8Actors adds code_challenge to AuthUrl, so a provider that supports PKCE expects code_verifier in the token " +
                    "request: send context.CodeVerifier as code_verifier in GenerateAccessTokenAsync.",
                    providerError: (e as TokenExchangeException)?.ProviderError, innerException: e);
            }
        }
    }
}

/// <summary>What an <see cref="OAuthFlow"/> subclass may use during the code exchange.</summary>
/// <param name="CodeVerifier">The PKCE verifier of this login (send it as <c>code_verifier</c>), or null when PKCE is off.</param>
/// <param name="RedirectUri">The exact redirect URI of this login (send it as <c>redirect_uri</c>).</param>
/// <param name="Http">An <see cref="HttpClient"/> from O8Actors' client factory (with timeouts; token POSTs are not retried).</param>
public sealed record OAuthCodeContext(string? CodeVerifier, Uri RedirectUri, HttpClient Http)
{
    private readonly string? _codeVerifier = CodeVerifier;

    /// <summary>The PKCE verifier of this login (send it as <c>code_verifier</c>), or null when PKCE is off.</summary>
    public string? CodeVerifier
    {
        get
        {
            VerifierRead = true;
            return _codeVerifier;
        }
        init => _codeVerifier = value;
    }

    /// <summary>Whether the subclass read <see cref="CodeVerifier"/>: a failed exchange that never did gets a hint.</summary>
    private bool VerifierRead { get; set; }

    /// <summary>PKCE was on for this login and the subclass never read the verifier (so it cannot have sent it).</summary>
    internal bool HasUnreadVerifier => _codeVerifier is not null && !VerifierRead;

    /// <inheritdoc />
    public override string ToString() => $"OAuthCodeContext {{ RedirectUri = {RedirectUri} }}";
}
