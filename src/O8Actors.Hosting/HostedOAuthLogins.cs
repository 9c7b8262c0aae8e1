using Akka.Actor;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using O8Actors.Binding;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Hosting;

/// <summary>
/// The <see cref="IOAuthLogins"/> and <see cref="IOAuthConnector"/> that DI hands out: a thin front over the actors
/// <c>WithOAuthLogins</c> started, usable as soon as it is injected (calls wait for the actor system to start).
/// </summary>
internal sealed class HostedOAuthLogins(O8Runtime runtime, BrowserBindingVerifier binding, ILogger<HostedOAuthLogins> logger)
    : IOAuthLogins, IOAuthConnector, IUnregistersProviders
{
    // Set once the plain-http warning was written: it names a deployment setting, so once per app says it.
    private int _warnedPlainHttp;
    private int _warnedOtherHost;

    public IObservable<LoginEvent> Events { get; } = new DeferredEvents(runtime);

    public async Task<TokenSet> AuthorizeAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.AuthorizeAsync(provider, request, cancellationToken).ConfigureAwait(false);

    public async Task<LoginOutcome> RunAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        // Already cancelled: the outcome the orchestrator gives (nothing started), also while the host is still starting,
        // whose wait would throw instead.
        if (cancellationToken.IsCancellationRequested) return new LoginCancelled(O8Actors.Flows.FlowSecrets.RandomToken(9));
        return await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.RunAsync(provider, request, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TokenSet> RefreshAsync(string provider, string refreshToken, IReadOnlyList<string>? scopes = null, CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.RefreshAsync(provider, refreshToken, scopes, cancellationToken).ConfigureAwait(false);

    public async Task RegisterProviderAsync(ProviderStrategy strategy, CancellationToken cancellationToken = default)
    {
        var started = await runtime.GetAsync(cancellationToken).ConfigureAwait(false);
        // Refused rather than registered on this node only: its logins run on every node (ServerModeRoute).
        if (ServerModeRoute.IsOn(started.System)) throw new NotSupportedException(ServerModeRoute.RuntimeProviderRefusal);
        await started.Client.RegisterProviderAsync(strategy, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> UnregisterProviderAsync(ProviderStrategy strategy, ProviderStrategy? successor = null, CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.UnregisterProviderAsync(strategy, successor, cancellationToken)
            .ConfigureAwait(false);

    public async Task<Uri> GetRedirectUriAsync(CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.GetRedirectUriAsync(cancellationToken).ConfigureAwait(false);

    public async Task<Uri> GetRedirectUriAsync(string provider, CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.GetRedirectUriAsync(provider, cancellationToken).ConfigureAwait(false);

    public async Task<O8Status> GetStatusAsync(CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.GetStatusAsync(cancellationToken).ConfigureAwait(false);

    public async Task<AccessToken> GetAccessTokenAsync(OAuthAccount account, IReadOnlyList<string>? scopes = null, AccessTokenOptions? options = null,
        CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.GetAccessTokenAsync(account, scopes, options, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<OAuthAccount>> GetAccountsAsync(string? provider = null, CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.GetAccountsAsync(provider, cancellationToken).ConfigureAwait(false);

    public async Task<UserInfo> GetUserInfoAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.GetUserInfoAsync(account, cancellationToken).ConfigureAwait(false);

    public Task<BackChannelLogoutResult> HandleBackChannelLogoutAsync(string provider, string logoutToken, CancellationToken cancellationToken = default) =>
        HandleBackChannelLogoutAsync(provider, logoutToken, onSignedOut: null, cancellationToken);

    /// <summary>The back-channel logout of <c>MapOAuthBackChannelLogout</c>: <paramref name="onSignedOut"/> runs before the token is spent.</summary>
    internal async Task<BackChannelLogoutResult> HandleBackChannelLogoutAsync(string provider, string logoutToken,
        Func<BackChannelLogoutResult, CancellationToken, Task>? onSignedOut, CancellationToken cancellationToken) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.HandleBackChannelLogoutAsync(provider, logoutToken, onSignedOut, cancellationToken)
            .ConfigureAwait(false);

    public async Task<SignOutResult> SignOutAsync(OAuthAccount account, CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.SignOutAsync(account, cancellationToken).ConfigureAwait(false);

    public async Task<SignOutResult> SignOutAsync(OAuthAccount account, SignOutOptions? options, CancellationToken cancellationToken = default) =>
        await (await runtime.GetAsync(cancellationToken).ConfigureAwait(false)).Client.SignOutAsync(account, options, cancellationToken).ConfigureAwait(false);

    public async Task<PendingLogin> BeginAsync(HttpContext context, string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted)
            throw new InvalidOperationException("BeginAsync(HttpContext, ...) sets a cookie, so it must run before the response has started.");
        WarnIfCookieWillBeDropped(context.Request);
        var login = await BeginAsync(provider, request, cancellationToken).ConfigureAwait(false);
        var started = await runtime.GetAsync(cancellationToken).ConfigureAwait(false);
        WarnIfCallbackGoesToAnotherHost(context.Request, started.Options.Listener.ExternalRedirectUri);
        BrowserBindingCookie.Append(context.Response, login.LoginId, login.BrowserBinding, request?.Timeout ?? started.Options.Login.Timeout);
        // This response carries the binding cookie and, in the app's redirect, the login's state: no cache may keep it and
        // hand it to another user (ASP.NET Core's own OpenID Connect challenge says the same).
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Response.Headers.Pragma = "no-cache";
        return login;
    }

    /// <summary>
    /// The binding cookie is <c>Secure</c> (a <c>__Host-</c> cookie must be), and a browser keeps a Secure cookie only from
    /// an https page or from localhost. A login begun from a plain-http request to any other host therefore ends as
    /// BrowserMismatch at its callback, every time; say why, once, before the first such login does. TLS that ends at a
    /// proxy is the usual cause: the browser saw https, the cookie is kept, and forwarded headers make the request say so.
    /// </summary>
    private void WarnIfCookieWillBeDropped(HttpRequest request)
    {
        if (request.IsHttps || IsLoopbackHost(request.Host.Host) || Interlocked.Exchange(ref _warnedPlainHttp, 1) == 1) return;
        logger.LogWarning(
            "BeginAsync(HttpContext, ...) ran on a plain-http request to {Host}. The browser-binding cookie is Secure, and a browser " +
            "keeps it only from an https page (or localhost), so logins begun this way end as BrowserMismatch at their callback. " +
            "Serve the app over https; if TLS ends at a proxy in front of it, call app.UseForwardedHeaders() with " +
            "ForwardedHeaders.XForwardedProto so that the request shows https (this warning is written once).",
            request.Host.Host);
    }

    /// <summary>
    /// The binding cookie is a <c>__Host-</c> cookie: the browser sends it back only to the host that set it. A login begun
    /// on another host than the redirect URI's (<c>www.example.com</c> against <c>example.com</c>, <c>localhost</c>
    /// against <c>127.0.0.1</c>) therefore ends as BrowserMismatch at its callback, every time, and its page blames another
    /// browser; say why, once, naming both hosts.
    /// </summary>
    private void WarnIfCallbackGoesToAnotherHost(HttpRequest request, Uri? redirectUri)
    {
        var host = BrowsersHost(request);
        if (redirectUri is null || string.Equals(host, redirectUri.IdnHost, StringComparison.OrdinalIgnoreCase)
            || string.Equals(host, redirectUri.Host, StringComparison.OrdinalIgnoreCase)
            || Interlocked.Exchange(ref _warnedOtherHost, 1) == 1) return;
        logger.LogWarning(
            "BeginAsync(HttpContext, ...) ran on a request to {RequestHost}, but the callback goes to {RedirectHost} " +
            "(O8:Listener:ExternalRedirectUri). The browser-binding cookie is sent back only to the host that set it, so logins " +
            "begun on {StartedOn} end as BrowserMismatch at their callback. Serve the app on the redirect URI's host (redirect the " +
            "other host to it) or register a redirect URI on the host users start from; behind a proxy that rewrites Host, have it " +
            "send X-Forwarded-Host (this warning is written once).",
            host, redirectUri.Host, host);
    }

    /// <summary>
    /// The host the browser sent the request to, which set the cookie: a proxy that rewrites <c>Host</c> (YARP's and
    /// nginx's defaults) names it in <c>X-Forwarded-Host</c>, its first entry the client's; else the request's own.
    /// </summary>
    private static string BrowsersHost(HttpRequest request)
    {
        var forwarded = request.Headers["X-Forwarded-Host"].ToString();
        if (string.IsNullOrWhiteSpace(forwarded)) return request.Host.Host;
        var first = forwarded.Split(',')[0].Trim();
        return first.Length == 0 ? request.Host.Host : new HostString(first).Host;
    }

    /// <summary>Hosts a browser treats as a secure context over plain http: <c>localhost</c> (and its subdomains) and loopback addresses.</summary>
    internal static bool IsLoopbackHost(string host) =>
        host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || Configuration.LoopbackNames.IsLoopbackHost(host);

    public async Task<PendingLogin> BeginAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        // Server mode redirects the user's own browser to the authorize URL; a device login has none, and would leave
        // the request waiting for its whole lifetime. Auto is a browser login here: the user's browser is at hand.
        if (request?.Method is LoginMethod.Device)
            throw new ArgumentException(
                "BeginAsync starts a browser login (server mode redirects the user's browser); a Device login has no authorize URL. " +
                "Run device logins with IOAuthLogins.RunAsync or AuthorizeAsync.", nameof(request));
        // Whatever o8.login.method says: the user's browser is the one this request came from.
        request = (request ?? AuthorizationRequest.Default) with { Method = LoginMethod.Browser };
        var started = await runtime.GetAsync(cancellationToken).ConfigureAwait(false);
        // The node's actor system stopped under a running host (it left its cluster, or is shutting down): a message to
        // its actors would go to dead letters and the caller would wait forever.
        if (started.System.WhenTerminated.IsCompleted) throw NodeStopped();
        // Without server mode the redirect goes to the loopback listener, which has no way to get the browser's binding
        // secret: every such login would end as BrowserMismatch, and only after the user consented. Say so now.
        if (started.Options.Listener.ExternalRedirectUri is null)
            throw new InvalidOperationException(
                "IOAuthConnector.BeginAsync needs server mode: set O8:Listener:ExternalRedirectUri (o8.listener.external-redirect-uri) to " +
                "the app's callback URL and map it with app.MapOAuthCallback(...). Without server mode, use IOAuthLogins.RunAsync or AuthorizeAsync.");
        var flowId = FlowSecrets.RandomToken(9);
        // Server mode always binds (secure by default): the login keeps only a keyed hash of the browser's secret.
        var (secret, hash) = binding.Create();
        var (url, outcome) = await started.Route.ConfigureAwait(false) is { } route
            ? BeginRouted(route, flowId, provider, request, hash, cancellationToken)
            : BeginHere(started, flowId, provider, request, hash, cancellationToken);
        var first = await Task.WhenAny(url, outcome, started.System.WhenTerminated).ConfigureAwait(false);
        if (first == started.System.WhenTerminated) throw NodeStopped();
        if (first == url && url.IsCompletedSuccessfully)
            return new PendingLogin(flowId, provider, await url.ConfigureAwait(false), outcome) { BrowserBinding = secret };

        // The login ended (or could not start) before it had a URL: report why.
        started.Urls.Forget(flowId);
        var ended = await outcome.ConfigureAwait(false);
        throw ended switch
        {
            LoginFailed f => started.Client.FailureException(f, provider),
            LoginCancelled => new OperationCanceledException("The login was cancelled before its authorize URL was ready.", cancellationToken),
            // Its deadline passed first (discovery or a pushed request slow): a timeout that says no browser was opened.
            LoginTimedOut t => AuthorizationTimeoutException.For(t),
            _ => new AuthorizationFailedException(LoginFailure.ProviderUnavailable, $"The login ended ({ended.Kind}) before its authorize URL was ready.") { LoginId = flowId },
        };
    }

    /// <summary>
    /// Starts the login on this node, waiting for its URL first (so the event cannot be missed). A request the client
    /// refuses before anything starts (an invalid timeout or step-up, a stopped node) leaves no waiter behind: nothing
    /// would ever end it.
    /// </summary>
    private static (Task<Uri> Url, Task<LoginOutcome> Outcome) BeginHere(O8Runtime.Started started, string flowId, string provider,
        AuthorizationRequest request, BrowserBindingHash hash, CancellationToken cancellationToken)
    {
        var url = started.Urls.Expect(flowId);
        try
        {
            return (url, started.Client.RunAsync(flowId, provider, request, cancellationToken, hash));
        }
        catch
        {
            started.Urls.Forget(flowId);
            throw;
        }
    }

    public async Task<PendingSignOut> BeginSignOutAsync(OAuthAccount account, SignOutOptions? options = null, CancellationToken cancellationToken = default)
    {
        OAuthAccount.ThrowIfIncomplete(account);
        var started = await runtime.GetAsync(cancellationToken).ConfigureAwait(false);
        if (started.System.WhenTerminated.IsCompleted) throw NodeStopped();
        // On a cluster the account's entity may run on another node, which cannot complete this process's URL: the
        // tokens are revoked and forgotten there, and the provider-session step runs here.
        Task<Uri?> url;
        Task<SignOutResult> result;
        if (await started.Route.ConfigureAwait(false) is not null)
        {
            if (options?.SendIdTokenHint == true)
                throw new NotSupportedException(
                    "SignOutOptions.SendIdTokenHint is not supported by BeginSignOutAsync on a cluster of server-mode nodes: the ID token stays with the account's entity. Sign out without it (the end-session URL then names the client).");
            (url, result) = await started.Client.BeginSignOutHereAsync(account, options, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            (url, result) = started.Client.BeginSignOut(account, options, cancellationToken);
        }
        // The URL, or the sign-out's end when it has none (no end-session endpoint, the step failed).
        await Task.WhenAny(url, result).WaitAsync(cancellationToken).ConfigureAwait(false);
        var endSessionUrl = url.IsCompletedSuccessfully ? await url.ConfigureAwait(false) : null;
        if (endSessionUrl is null) await result.ConfigureAwait(false); // surfaces a failed sign-out here
        return new PendingSignOut(account, endSessionUrl, result);
    }

    private static AuthorizationFailedException NodeStopped() => new(LoginFailure.ListenerUnavailable,
        "O8Actors has stopped on this node (its actor system terminated: the node left its cluster or is shutting down). Begin the sign-in on another node.");

    /// <summary>
    /// Begins a login through the route (O8Actors.Cluster): the login may run on another node, so its URL and outcome come
    /// back as messages to the route, not as this node's events. Cancelling the token cancels it there.
    /// </summary>
    private static (Task<Uri> Url, Task<LoginOutcome> Outcome) BeginRouted(IActorRef route, string flowId, string provider,
        AuthorizationRequest? request, BrowserBindingHash binding, CancellationToken cancellationToken)
    {
        request ??= AuthorizationRequest.Default;
        AuthorizationRequest.ThrowIfInvalid(request, nameof(request));
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        route.Tell(new BeginRoutedLogin(flowId, provider, request, binding, url, outcome));
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(static state =>
            {
                var (to, id) = ((IActorRef, string))state!;
                to.Tell(new CancelRoutedLogin(id));
            }, (route, flowId));
            _ = outcome.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        // As on a single node, a successful login is remembered as its account before the caller sees the outcome: by the
        // node that ran it, before it reported (LoginSucceeded.Account), so even when this node is gone by then. Not again here.
        return (url.Task, outcome.Task);
    }

    /// <summary>
    /// Subscribes to the event stream once the actor system is up; subscribers that come earlier are attached then, or told
    /// the start's error (<see cref="IObserver{T}.OnError"/>) should O8Actors not start, as every call made before the start is.
    /// </summary>
    private sealed class DeferredEvents(O8Runtime runtime) : IObservable<LoginEvent>
    {
        public IDisposable Subscribe(IObserver<LoginEvent> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            if (runtime.TryGet(out var started)) return started.Client.Events.Subscribe(observer);
            var deferred = new DeferredSubscription();
            _ = AttachWhenStartedAsync(observer, deferred);
            return deferred;
        }

        private async Task AttachWhenStartedAsync(IObserver<LoginEvent> observer, DeferredSubscription deferred)
        {
            O8Runtime.Started started;
            try
            {
                started = await runtime.WhenStarted.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // O8Actors did not start: there are no events to attach to. The subscriber is told why, as every call of the
                // API is (one that awaits its first event would otherwise wait forever), unless it has left already.
                if (!deferred.IsDisposed) observer.OnError(e);
                return;
            }

            deferred.Attach(started.Client.Events.Subscribe(observer));
        }
    }

    private sealed class DeferredSubscription : IDisposable
    {
        private readonly Lock _gate = new();
        private IDisposable? _inner;
        private bool _disposed;

        /// <summary>Whether the subscriber has left.</summary>
        public bool IsDisposed
        {
            get
            {
                lock (_gate) return _disposed;
            }
        }

        public void Attach(IDisposable inner)
        {
            lock (_gate)
            {
                if (!_disposed)
                {
                    _inner = inner;
                    return;
                }
            }

            inner.Dispose();
        }

        public void Dispose()
        {
            IDisposable? inner;
            lock (_gate)
            {
                _disposed = true;
                inner = _inner;
                _inner = null;
            }

            inner?.Dispose();
        }
    }
}
