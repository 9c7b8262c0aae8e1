using Microsoft.IdentityModel.Tokens;

namespace O8Actors.Providers.IdTokens;

/// <summary>
/// One provider's signing keys (its <c>jwks_uri</c>), fetched on first use through the providers' HTTP client and kept.
/// An ID token signed with a key id the set does not hold triggers one refetch (the provider rotated its keys), but
/// never more often than <see cref="MinRefetchInterval"/>: otherwise anyone able to hand us a token could make every
/// login fetch the key set. Tokens anyone may post (logout tokens) have a refetch of their own per interval, so they
/// cannot spend the one of the tokens from the provider's token endpoint. Keys older than <see cref="MaxAge"/> are fetched again on the next login, so a key the
/// provider withdrew (say, after a compromise) stops verifying; while that fetch fails, the keys held are used.
/// </summary>
/// <remarks>
/// During a key endpoint's outage with keys held, the logins verify with them at once: a periodic fetch that failed is
/// tried again only after a backoff (<see cref="FirstRetryDelay"/>, doubling up to <see cref="MinRefetchInterval"/>),
/// and a fetch one login already waited <see cref="RefreshPatience"/> for is not waited for again. Before, every login
/// started a fetch of its own and waited for it, up to the whole patience when the endpoint hung.
/// <para>Thread-safe: concurrent exchanges share one fetch in flight.</para>
/// </remarks>
internal sealed class JwksCache(string provider, Uri jwksUri, TimeProvider time)
{
    /// <summary>The shortest time between two fetches that an unknown key id may cause.</summary>
    public static readonly TimeSpan MinRefetchInterval = TimeSpan.FromMinutes(5);

    /// <summary>How long a fetched key set is used before it is fetched again.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(12);

    /// <summary>How long after a failed periodic fetch (keys held) the next one waits; doubled after each failure in a row.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The wait after one more failure in a row, <paramref name="current"/> being the wait after the one before (zero
    /// after a success): <see cref="FirstRetryDelay"/>, then doubled, at most <see cref="MinRefetchInterval"/>. The key
    /// set's fetches and the provider's metadata reads back off alike.
    /// </summary>
    public static TimeSpan NextRetryDelay(TimeSpan current) =>
        current == TimeSpan.Zero ? FirstRetryDelay : TimeSpan.FromTicks(Math.Min(current.Ticks * 2, MinRefetchInterval.Ticks));

    private readonly object _gate = new();
    private Task<IReadOnlyList<SecurityKey>>? _current;
    private IReadOnlyList<SecurityKey>? _lastGood;
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;
    // Two budgets for refetches after an unknown key id, each one fetch per interval: the tokens from the provider's own
    // token endpoint count from the last fetch they (or a periodic fetch) started, the tokens anyone may post from the
    // last refetch such a token started. Forged logout tokens with random key ids thus cannot spend the logins' budget and
    // fail every login right after the provider rotates its keys, nor can the logins' fetches keep a genuine logout token
    // under a newly rotated key from being looked up.
    private DateTimeOffset _trustedFetchedAt = DateTimeOffset.MinValue;
    private DateTimeOffset _anyoneRefetchedAt = DateTimeOffset.MinValue;
    // With keys held: no fetch starts before this after a failed one (the delay doubles with each failure in a row).
    // With none: no fetch for a token anyone may send (a logout token) starts before this.
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private TimeSpan _retryDelay = TimeSpan.Zero;
    // When the latest fetch failed: an unknown key id fetches again only FirstRetryDelay after it.
    private DateTimeOffset _failedAt = DateTimeOffset.MinValue;
    // A caller holding keys waited its whole patience for the fetch in flight: the next ones verify with the keys held.
    private bool _currentIsSlow;

    /// <summary>Whether the latest fetch ended without keys (read under the gate).</summary>
    private bool LastFetchFailed => _current is { IsFaulted: true } or { IsCanceled: true };

    /// <summary>Where the keys come from.</summary>
    public Uri Uri => jwksUri;

    /// <summary>
    /// A backstop for one fetch of the key set. The fetch is shared by every login that waits for it, so it runs on a
    /// bound of its own and never on a waiting login's token: one login's timeout must not fail the others. O8Actors'
    /// HTTP client ends it sooner (its safe-request pipeline's timeout, the exchange timeout).
    /// </summary>
    internal TimeSpan FetchTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a login that holds keys waits for the periodic refresh before it verifies with the keys held: a key
    /// endpoint that hangs must not hold every login up to its exchange timeout (the refresh goes on for the next ones).
    /// </summary>
    internal TimeSpan RefreshPatience { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The cached keys, fetching them the first time, again after a failed fetch, and again when older than <see cref="MaxAge"/>.</summary>
    /// <param name="http">The client for a fetch this call starts.</param>
    /// <param name="cancellationToken">Ends this caller's wait only; a fetch in flight goes on for the others.</param>
    /// <param name="deadline">When this caller stops waiting for a fetch (<see cref="DeadlineIn"/>; null: as long as its token allows); then it fails as the fetch would.</param>
    /// <param name="anyoneMaySend">The token came from a request anyone can make (a back-channel logout's POST), not from
    /// the provider's token endpoint: with no keys ever fetched, it starts a fetch only <see cref="FirstRetryDelay"/> after
    /// the last one failed (before that it fails as that fetch did), so forged posts cannot drive the key endpoint.</param>
    public async Task<IReadOnlyList<SecurityKey>> GetAsync(HttpClient http, CancellationToken cancellationToken, long? deadline = null,
        bool anyoneMaySend = false)
    {
        Task<IReadOnlyList<SecurityKey>> task;
        IReadOnlyList<SecurityKey>? fallback;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            // With no keys held a login fetches again at once (it has nothing else to verify with); with keys held, or for
            // a token anyone may send, a failed fetch is tried again only after its backoff.
            var retryNow = LastFetchFailed && ((_lastGood is null && !anyoneMaySend) || now >= _retryAt);
            if (_current is null || now - _fetchedAt >= MaxAge || retryNow)
                StartFetch(http);
            task = _current!;
            fallback = _lastGood;
            // The endpoint failed a moment ago, or hangs on a fetch another login already gave up on: no wait.
            if (fallback is not null && !task.IsCompletedSuccessfully && (task.IsCompleted || _currentIsSlow))
                return fallback;
        }
        if (fallback is null)
            return await WaitAsync(task, deadline, cancellationToken).ConfigureAwait(false);
        // Never longer than this caller's deadline: past it, the keys held serve.
        var wait = deadline is { } end && Left(end) is var left && left < RefreshPatience ? left : RefreshPatience;
        try
        {
            return await task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IdTokenValidationException or TimeoutException)
        {
            // The provider's key endpoint is down, or slow, for a periodic refresh: the keys it served before still verify.
            // A caller that waited its whole patience marks the fetch slow (a refresh's shorter deadline says nothing of it).
            if (e is TimeoutException && wait == RefreshPatience)
                lock (_gate)
                    if (ReferenceEquals(_current, task)) _currentIsSlow = true;
            return fallback;
        }
    }

    /// <summary>
    /// Fetches the keys again after an unknown key id, unless the last fetch started less than
    /// <see cref="MinRefetchInterval"/> ago, or failed less than <see cref="FirstRetryDelay"/> ago (a key endpoint back
    /// from an outage serves a rotated key within that, whatever the periodic fetch's backoff has grown to); then answers
    /// the keys already held (or being fetched).
    /// </summary>
    /// <param name="http">The client for a fetch this call starts.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <param name="deadline">When this caller stops waiting for a fetch (<see cref="DeadlineIn"/>).</param>
    /// <param name="anyoneMaySend">The token came from a request anyone can make (a back-channel logout's POST): it
    /// refetches only when no such token started one within <see cref="MinRefetchInterval"/>, and what it fetches does
    /// not count against the tokens from the provider's token endpoint, which keep a refetch of their own per interval.</param>
    /// <returns>The keys, and whether this call started a fetch.</returns>
    public async Task<(IReadOnlyList<SecurityKey> Keys, bool Refetched)> RefetchAsync(HttpClient http, CancellationToken cancellationToken,
        long? deadline = null, bool anyoneMaySend = false)
    {
        Task<IReadOnlyList<SecurityKey>> task;
        bool refetched;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            // After a failed fetch, counted from its failure, not its start: a fetch that hung until it timed out fails late
            // (its start, _fetchedAt, until Ended has noted the failure).
            refetched = _current is null || (anyoneMaySend
                ? now - _anyoneRefetchedAt >= MinRefetchInterval
                : LastFetchFailed
                    ? now - (_failedAt > _fetchedAt ? _failedAt : _fetchedAt) >= FirstRetryDelay
                    : now - _trustedFetchedAt >= MinRefetchInterval);
            if (refetched)
                StartFetch(http, anyoneMaySend);
            task = _current!;
        }
        return (await WaitAsync(task, deadline, cancellationToken).ConfigureAwait(false), refetched);
    }

    /// <summary>A deadline <paramref name="wait"/> from now, for a caller's waits on the key set (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public static long DeadlineIn(TimeSpan wait) =>
        System.Diagnostics.Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);

    /// <summary>The time left until <paramref name="deadline"/>; zero once it has passed.</summary>
    private static TimeSpan Left(long deadline)
    {
        var left = System.Diagnostics.Stopwatch.GetElapsedTime(System.Diagnostics.Stopwatch.GetTimestamp(), deadline);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>Waits for a fetch until <paramref name="deadline"/>; one that takes longer fails this caller as an unavailable key set.</summary>
    private async Task<IReadOnlyList<SecurityKey>> WaitAsync(Task<IReadOnlyList<SecurityKey>> fetch, long? deadline, CancellationToken cancellationToken)
    {
        if (deadline is not { } end)
            return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
        var wait = Left(end);
        try
        {
            return await fetch.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // This caller's own bound (the fetch wraps its own timeouts): the fetch goes on for the others.
            throw Unavailable($"did not answer within {wait.TotalSeconds:0.#} seconds");
        }
    }

    /// <summary>A failure to have the key set: the ID token was neither accepted nor refused on its own merits.</summary>
    private IdTokenValidationException Unavailable(string what, Exception? inner = null) =>
        new($"The ID token from '{provider}' could not be validated (keys): its key set at {jwksUri} {what}.", inner) { KeysUnavailable = true };

    private void StartFetch(HttpClient http, bool forAnyone = false)
    {
        _fetchedAt = time.GetUtcNow();
        if (forAnyone) _anyoneRefetchedAt = _fetchedAt;
        else _trustedFetchedAt = _fetchedAt;
        _currentIsSlow = false;
        var fetch = _current = FetchAsync(http);
        // Every waiter may have given up before a fetch fails; its failure is then nobody's to observe. Its end sets when
        // the next fetch may start.
        fetch.ContinueWith(static (t, state) => ((JwksCache)state!).Ended(t), this, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>A fetch ended: success clears the backoff; a failure with keys held sets when the next fetch may start.</summary>
    private void Ended(Task<IReadOnlyList<SecurityKey>> fetch)
    {
        _ = fetch.Exception;
        lock (_gate)
        {
            if (fetch.IsCompletedSuccessfully)
            {
                _retryDelay = TimeSpan.Zero;
                return;
            }

            if (!ReferenceEquals(_current, fetch)) return;
            _failedAt = time.GetUtcNow();
            if (_lastGood is null)
            {
                // No keys yet: a login fetches again at once; a token anyone may send, only this long after the failure
                // (counted from the failure, not the fetch's start: a hanging fetch fails late).
                _retryAt = time.GetUtcNow() + FirstRetryDelay;
                return;
            }

            _retryDelay = NextRetryDelay(_retryDelay);
            _retryAt = time.GetUtcNow() + _retryDelay;
        }
    }

    private async Task<IReadOnlyList<SecurityKey>> FetchAsync(HttpClient http)
    {
        string body;
        using (var timeout = new CancellationTokenSource(FetchTimeout))
        {
            try
            {
                using var response = await http.GetAsync(jwksUri, timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                    throw Unavailable($"answered HTTP {(int)response.StatusCode}");
                body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw Unavailable($"could not be fetched ({ex.Message})", ex);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or Polly.ExecutionRejectedException)
            {
                // This fetch's own bound, or the client pipeline's per-attempt timeout: a failed fetch like any other, so
                // the keys held serve (a bare cancellation would have failed the login instead).
                throw Unavailable($"did not answer within {FetchTimeout.TotalSeconds:0.#} seconds", ex);
            }
        }

        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(body);
        }
        catch (ArgumentException ex)
        {
            throw Unavailable("is not a JWKS document", ex);
        }
        // Public signing keys only: a symmetric ("oct") key in a public document could only help an attacker, and
        // encryption keys never sign.
        IReadOnlyList<SecurityKey> keys = set.Keys
            .Where(k => k.Kty is JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve)
            .Where(k => string.IsNullOrEmpty(k.Use) || k.Use == JsonWebKeyUseNames.Sig)
            .Cast<SecurityKey>()
            .ToList();
        // A set with nothing to verify with is a failed fetch, not the provider's keys: kept, it would refuse every token
        // until it aged out; failed, the keys held serve and the next token fetches again.
        if (keys.Count == 0)
            throw Unavailable("holds no public signing key (RSA or EC)");
        lock (_gate) _lastGood = keys;
        return keys;
    }
}
