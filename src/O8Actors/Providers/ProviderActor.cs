using Akka.Actor;
using Akka.Event;
using O8Actors.Diagnostics;

namespace O8Actors.Providers;

/// <summary>
/// Wraps one <see cref="ProviderStrategy"/>: learns what the provider supports once (discovery; a strategy that reads
/// its metadata again, <see cref="IRefreshesMetadata"/>, tells it of each new read), builds authorize URLs, and runs
/// token requests with at most <c>maxConcurrentExchanges</c> in flight, queueing the rest.
/// </summary>
/// <remarks>
/// <para>Replaced by a re-registration, it drains (<see cref="DrainProvider"/>): queued and running requests are answered,
/// then it stops. A code sent to the token endpoint is spent, so its answer must reach its login.</para>
/// <para>Restarted by the registry after a throw, it keeps its work: the request it failed on is answered with a
/// failure, queued requests and logins waiting for discovery are handed to the next incarnation (sent to itself with
/// their original senders), and token requests still running answer their logins when they finish. The discovery
/// result is a cache and is fetched again.</para>
/// <para>This file holds its state, its start, restart and stop, and the helpers every part uses; the parts by concern:
/// <c>ProviderActor.Resolving.cs</c> (discovery, metadata refresh, authorize URLs), <c>ProviderActor.TokenQueue.cs</c>
/// (the queue), <c>ProviderActor.TokenRequests.cs</c> (running a token request), <c>ProviderActor.SideRequests.cs</c>
/// (end session, UserInfo, logout tokens).</para>
/// </remarks>
internal sealed partial class ProviderActor : ReceiveActor
{
    private readonly ProviderStrategy _strategy;
    private readonly Func<HttpClient> _httpClients;
    private readonly int _maxConcurrent;
    private readonly int _maxQueued;
    private readonly TimeSpan _exchangeTimeout;
    private readonly string? _redirectPath;
    // The listener's redirect URI last seen and the provider's own URI built from it: the listener's URI does not change
    // while it lives, so every login reuses the one built (a UriBuilder and a parse per login before).
    private (Uri Listener, Uri Provider)? _redirectUris;
    // Watched: the login was watched when its request was queued (see _watchedRequests).
    private readonly Queue<(object Request, IActorRef ReplyTo, bool Watched)> _waiting = new();
    // Each watched login's watched requests in the queue: an Auto login may have its device-code request and its code
    // exchange queued at once, and is unwatched only when the last of them leaves.
    private readonly Dictionary<IActorRef, int> _watchedRequests = [];
    // Logins waiting for discovery: a browser login's PrepareAuthorization, or a device login's RequestDeviceCode (which
    // needs the descriptor too: whether the provider binds tokens with DPoP decides the key its polls sign with).
    private readonly List<(object Request, IActorRef ReplyTo)> _pending = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    // How long this endpoint takes to answer a token request: a queued code is sent only with that much time left.
    private readonly AnswerTimeEstimate _answerTimes = new();
    // Token requests at the provider, counted across this actor's restarts (TokenRequestsInFlight).
    private readonly TokenRequestsInFlight _inFlight;
    private ProviderDescriptor? _descriptor;
    private bool _draining;
    // What is being started on this thread, so PreRestart answers it if starting throws: a token request, or the
    // discovery the logins in _pending wait for. Handed on instead, they would make the next incarnation throw again.
    private (object Request, IActorRef ReplyTo)? _starting;
    private bool _startingDiscovery;
    // Hears of a discovery strategy's background reads of the metadata, to log them (the strategy has no log).
    private Action<MetadataRefreshed>? _hearRefreshes;

    /// <summary>Props for a provider actor.</summary>
    /// <param name="strategy">The provider's protocol.</param>
    /// <param name="httpClients">Creates the HTTP client for a request (from <c>IHttpClientFactory</c>).</param>
    /// <param name="maxConcurrentExchanges">Token requests in flight at once.</param>
    /// <param name="exchangeTimeout">How long one token request may take.</param>
    /// <param name="maxQueuedExchanges">Token requests held waiting for a slot; past it a request fails at once.</param>
    /// <param name="redirectPath">The provider's own redirect path, put on the listener's redirect URI; null keeps that URI as is.</param>
    /// <remarks>Make one actor of each Props: its incarnations share one count of the token requests in flight.</remarks>
    public static Props Props(ProviderStrategy strategy, Func<HttpClient> httpClients, int maxConcurrentExchanges, TimeSpan exchangeTimeout,
        int maxQueuedExchanges = DefaultMaxQueuedExchanges, string? redirectPath = null)
    {
        var inFlight = new TokenRequestsInFlight();
        return Akka.Actor.Props.Create(() =>
            new ProviderActor(strategy, httpClients, maxConcurrentExchanges, exchangeTimeout, maxQueuedExchanges, redirectPath, inFlight));
    }

    /// <summary>
    /// The token requests one provider actor has at the provider, shared by its incarnations (the Props each is made
    /// from holds it): an incarnation made by a restart counts those its predecessor sent, which are still answered and
    /// each free their slot when they end. Counted from zero per incarnation, every restart added its predecessor's
    /// requests on top of <c>max-concurrent-exchanges</c> until they ended. Read and written on the actor's thread only.
    /// </summary>
    internal sealed class TokenRequestsInFlight
    {
        public int Count { get; set; }
    }

    /// <summary>The shipped <c>o8.providers.max-queued-exchanges</c>.</summary>
    internal const int DefaultMaxQueuedExchanges = 1024;

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public ProviderActor(ProviderStrategy strategy, Func<HttpClient> httpClients, int maxConcurrentExchanges, TimeSpan exchangeTimeout,
        int maxQueuedExchanges = DefaultMaxQueuedExchanges, string? redirectPath = null, TokenRequestsInFlight? inFlight = null)
    {
        _inFlight = inFlight ?? new TokenRequestsInFlight();
        _strategy = strategy;
        _redirectPath = redirectPath;
        _httpClients = httpClients;
        _maxConcurrent = Math.Max(1, maxConcurrentExchanges);
        _maxQueued = Math.Max(0, maxQueuedExchanges);
        _exchangeTimeout = ExchangeTimeouts.TokenRequest(exchangeTimeout);
        Unresolved();
    }

    private sealed record Resolved(ProviderDescriptor Descriptor);
    // A strategy's discovery may throw anything: its type only, should this reach dead letters (a stopped provider).
    private sealed record ResolveFailed(Exception Cause)
    {
        public override string ToString() => $"ResolveFailed {{ Cause = {Printed.TypeOf(Cause)} }}";
    }
    // A token request ended: its slot is free (in whichever incarnation hears it: the count is shared). The request's
    // caller has had its answer already (AnswerWhenDone). AnswerTime: how long the endpoint took to answer a code or a
    // refresh; null when it did not answer (a timeout, a network failure) or the request was of another kind.
    private sealed record TokenRequestDone(TimeSpan? AnswerTime);

    /// <inheritdoc />
    protected override void PreStart()
    {
        base.PreStart();
        if (_strategy is not IRefreshesMetadata refreshing) return;
        var self = Self;
        _hearRefreshes = report => self.Tell(report);
        refreshing.Refreshed += _hearRefreshes;
    }

    /// <inheritdoc />
    protected override void PreRestart(Exception reason, object message)
    {
        if (_starting is { } failed) failed.ReplyTo.Tell(InternalFailure(failed.Request));
        foreach (var queued in _waiting) Self.Tell(queued.Request, queued.ReplyTo);
        foreach (var waiting in _pending)
        {
            if (_startingDiscovery) waiting.ReplyTo.Tell(InternalFailure(waiting.Request));
            else Self.Tell(waiting.Request, waiting.ReplyTo);
        }
        if (_draining) Self.Tell(DrainProvider.Instance);
        // Answered and handed on: the base's PostStop (called from here) must not answer them again.
        _starting = null;
        _waiting.Clear();
        _pending.Clear();
        base.PreRestart(reason, message);
    }

    /// <summary>
    /// Stopped with requests still held (the registry gave up on it after repeated failures, or the system is stopping):
    /// the request it failed on last, each queued request and each login waiting for discovery is answered, rather than
    /// left to its own deadline with an answer that would blame the user or the network. A token request already sent
    /// answers its caller when it returns (<see cref="AnswerWhenDone{T}"/>). Requests still in the mailbox go to dead
    /// letters, where the <see cref="Flows.UndeliveredLoginWatcher"/> answers them.
    /// </summary>
    protected override void PostStop()
    {
        if (_strategy is IRefreshesMetadata refreshing && _hearRefreshes is not null) refreshing.Refreshed -= _hearRefreshes;
        // Set only while a request starts: still set here, starting it threw and the registry stopped this actor instead
        // of restarting it (on a restart, PreRestart answered it and cleared it before calling this).
        // As the registry and the dead letters' watcher answer the requests this actor never took: one kind of failure,
        // ProviderUnavailable, for every caller of a provider that is gone.
        if (_starting is { } failed)
            failed.ReplyTo.Tell(Unavailable(failed.Request, "after failing repeatedly (this request failed as it started)"));
        foreach (var (request, replyTo, _) in _waiting) replyTo.Tell(Unavailable(request, "before it could answer"));
        foreach (var (request, replyTo) in _pending) replyTo.Tell(Unavailable(request, "before it could answer"));
        _waiting.Clear();
        _pending.Clear();
        base.PostStop();
    }

    /// <summary>The answer to <paramref name="request"/> of a provider whose actor stopped <paramref name="how"/>, never sending it.</summary>
    private object Unavailable(object request, string how) => ProviderRequestFailures.ProviderOf(request) is null
        ? InternalFailure(request, $"stopped {how}")
        : ProviderRequestFailures.For(request, LoginFailure.ProviderUnavailable, ProviderRequestFailures.Stopped(_strategy.Name, how));

    private object InternalFailure(object request, string what = "failed (internal error)") => request switch
    {
        PrepareAuthorization p => new ProviderUnavailable(p.LoginId, $"The provider '{_strategy.Name}' {what}."),
        CheckBrowserLogin c => new ProviderUnavailable(c.LoginId, $"The provider '{_strategy.Name}' {what}."),
        AuthorizeUrlBuild b => new ProviderUnavailable(b.LoginId, $"The provider '{_strategy.Name}' {what}."),
        PrepareEndSession s => new ProviderUnavailable(s.RequestId, $"The provider '{_strategy.Name}' {what}."),
        CheckEndSession s => new ProviderUnavailable(s.RequestId, $"The provider '{_strategy.Name}' {what}."),
        FetchUserInfo u => new UserInfoFetchFailed(u.RequestId, new UserInfoException(UserInfoFailure.Failed, $"The provider '{_strategy.Name}' {what}.")),
        ValidateLogoutToken l => new LogoutTokenRefused(l.RequestId, new BackChannelLogoutException(BackChannelLogoutFailure.Failed, $"The provider '{_strategy.Name}' {what}.")),
        ExchangeCode e => new CodeExchangeFailed(e.LoginId, LoginFailure.TokenExchange, $"The token exchange with '{_strategy.Name}' {what}.", null),
        RefreshTokens r => new CodeExchangeFailed(r.RequestId, LoginFailure.TokenExchange, $"The token refresh with '{_strategy.Name}' {what}.", null),
        RevokeTokens v => new RevocationDone(v.RequestId, RevocationOutcome.Failed, $"The revocation with '{_strategy.Name}' {what}."),
        RequestDeviceCode d => new DeviceCodeRefused(new CodeExchangeFailed(d.LoginId, LoginFailure.TokenExchange, $"The device authorization with '{_strategy.Name}' {what}.", null)),
        PollDeviceToken p => new CodeExchangeFailed(p.LoginId, LoginFailure.TokenExchange, $"The device token request with '{_strategy.Name}' {what}.", null),
        _ => new Status.Failure(new InvalidOperationException($"The provider {what}.")),
    };

    /// <summary>A piped task's failure as the work threw it (a faulted task's single exception, not its aggregate).</summary>
    private static Exception Unwrapped(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;

    private static string SafeReason(Exception e)
    {
        var cause = Unwrapped(e);
        return cause is OAuthFlowException or HttpRequestException or TimeoutException or OperationCanceledException or InvalidOperationException or ArgumentException
            ? cause.Message
            : cause.GetType().Name;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a token cancelled after <paramref name="timeout"/>, which then fails as a
    /// <see cref="TimeoutException"/>. Work that finishes at once (a plain authorize URL) never starts the timer; a
    /// synchronous throw becomes a faulted task, like an asynchronous one.
    /// </summary>
    private static Task<T> RunWithTimeout<T>(Func<CancellationToken, Task<T>> work, TimeSpan timeout)
    {
        var cts = new CancellationTokenSource();
        Task<T> task;
        try
        {
            // An app's override that returns no task at all fails its request like one that throws (on the actor's
            // thread a null would throw below, outside this guard, and restart the provider's actor).
            task = StrategyReturnedNoTaskException.Checked(work(cts.Token));
        }
        catch (Exception e)
        {
            cts.Dispose();
            return Task.FromException<T>(e);
        }

        if (task.IsCompleted)
        {
            cts.Dispose();
            return task;
        }

        cts.CancelAfter(timeout);
        return WithTimeoutAsync(task, cts, timeout);
    }

    private static async Task<T> WithTimeoutAsync<T>(Task<T> task, CancellationTokenSource cts, TimeSpan timeout)
    {
        using (cts)
        {
            try
            {
                return await task.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} seconds.");
            }
        }
    }
}
