using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using O8Actors.Browser;
using O8Actors.TestKit.Certificates;

namespace O8Actors.TestKit.Browser;

/// <summary>
/// An <see cref="IBrowserLauncher"/> that plays the user without a real browser. <see cref="LaunchAsync"/> returns at
/// once; in the background the browser GETs the authorize URL (no automatic redirects), reads the 302 <c>Location</c>
/// and, when the script says <see cref="BrowserAction.Approve"/>, GETs that callback on a fresh connection, like a new
/// browser tab. The latest visits (<see cref="ScriptedBrowserOptions.MaxVisitsKept"/>) are kept in <see cref="Visits"/>;
/// nothing thrown in the background is lost or escapes.
/// </summary>
/// <remarks>
/// The login's cancellation token stops a visit while it waits for a slot or for the authorize server; once the
/// browser is landing on the callback it finishes the request, as a real browser would, unless the browser is disposed.
/// </remarks>
public sealed class ScriptedBrowser : IBrowserLauncher, IAsyncDisposable
{
    private const string UserAgent = "O8Actors.ScriptedBrowser/1.0";

    private readonly ScriptedBrowserOptions _options;
    private readonly HttpClient _authorizeClient;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _gate = new();
    // The latest visits, oldest first; _launched counts every launch, so the first kept one has index _launched - _visits.Count.
    private readonly List<ScriptedVisit> _visits = [];
    // The visits in flight, by index: each takes itself out as its last step, so only these are held for DisposeAsync.
    private readonly Dictionary<int, Task> _running = [];
    // Waiters for visits not launched yet, by index, one per call: a launch takes its waiters out, a caller that gives up
    // takes its own out, and DisposeAsync faults the rest.
    private readonly Dictionary<int, List<TaskCompletionSource<ScriptedVisit>>> _waiters = [];
    private int _launched;
    private readonly List<Exception> _handlerErrors = [];
    private int _disposed;

    /// <summary>Creates a browser.</summary>
    /// <param name="options">Script, trust and limits; <c>null</c> approves every login and trusts the system store.</param>
    public ScriptedBrowser(ScriptedBrowserOptions? options = null)
    {
        _options = options ?? new ScriptedBrowserOptions();
        ArgumentNullException.ThrowIfNull(_options.Script);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrency, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.RequestTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBodyChars, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxVisitsKept, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.LaunchWait, TimeSpan.Zero);
        // A CancellationTokenSource's longest delay: longer would fault every wait instead of bounding it.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.LaunchWait, TimeSpan.FromMilliseconds(int.MaxValue - 1));
        _slots = new SemaphoreSlim(_options.MaxConcurrency, _options.MaxConcurrency);
        _authorizeClient = new HttpClient(CreateHandler(), disposeHandler: true) { Timeout = _options.RequestTimeout };
    }

    /// <summary>Raised when a visit ends. Exceptions thrown by handlers are kept in <see cref="HandlerErrors"/>.</summary>
    public event EventHandler<ScriptedVisit>? VisitCompleted;

    /// <summary>The latest visits (at most <see cref="ScriptedBrowserOptions.MaxVisitsKept"/>), in launch order (a snapshot).</summary>
    public IReadOnlyList<ScriptedVisit> Visits
    {
        get
        {
            lock (_gate)
            {
                return _visits.ToArray();
            }
        }
    }

    /// <summary>Exceptions thrown by <see cref="VisitCompleted"/> handlers (a snapshot).</summary>
    public IReadOnlyList<Exception> HandlerErrors
    {
        get
        {
            lock (_gate)
            {
                return _handlerErrors.ToArray();
            }
        }
    }

    /// <summary>Records the visit, starts it in the background and returns <c>Opened("scripted")</c> at once.</summary>
    /// <param name="authorizeUrl">The authorize URL.</param>
    /// <param name="cancellationToken">Cancelled when the login ends first.</param>
    /// <exception cref="ObjectDisposedException">The browser was disposed.</exception>
    public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorizeUrl);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        BrowserAction action;
        Exception? scriptError = null;
        try
        {
            action = _options.Script(authorizeUrl);
        }
        catch (Exception ex)
        {
            // A throwing script is the test's bug: record it on the visit rather than failing the login's browser launch.
            action = BrowserAction.Abandon;
            scriptError = ex;
        }

        ScriptedVisit visit;
        List<TaskCompletionSource<ScriptedVisit>>? waiters;
        lock (_gate)
        {
            visit = new ScriptedVisit(_launched++, authorizeUrl, action);
            _visits.Add(visit);
            if (_visits.Count > _options.MaxVisitsKept) _visits.RemoveAt(0);
            _waiters.Remove(visit.Index, out waiters);
            // Added under the gate the visit needs to take itself out, so it cannot leave before it is in.
            _running.Add(visit.Index, Task.Run(() => PlayAsync(visit, scriptError, cancellationToken), CancellationToken.None));
        }

        foreach (var waiter in waiters ?? []) waiter.TrySetResult(visit);
        return Task.FromResult(BrowserLaunchResult.Opened("scripted"));
    }

    /// <summary>
    /// The visit with launch index <paramref name="index"/>, as soon as it has been launched. Faults with
    /// <see cref="InvalidOperationException"/> when that visit is older than the <see cref="ScriptedBrowserOptions.MaxVisitsKept"/> kept,
    /// and with <see cref="ObjectDisposedException"/> when the browser is disposed before that visit is launched. Without a
    /// <paramref name="cancellationToken"/> that can be cancelled it waits at most <see cref="ScriptedBrowserOptions.LaunchWait"/> (30 s), then faults with
    /// <see cref="TimeoutException"/> saying how many visits were launched: a login that ends before its browser opens
    /// (discovery failed, a refused push, the pending-login limit) would otherwise leave the test waiting for ever.
    /// </summary>
    /// <param name="index">Launch order, from 0.</param>
    /// <param name="cancellationToken">Stops waiting (and replaces the <see cref="ScriptedBrowserOptions.LaunchWait"/> limit).</param>
    public Task<ScriptedVisit> VisitAsync(int index, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        TaskCompletionSource<ScriptedVisit> waiter;
        lock (_gate)
        {
            var firstKept = _launched - _visits.Count;
            if (index < _launched)
            {
                var launched = index >= firstKept
                    ? Task.FromResult(_visits[index - firstKept])
                    : Task.FromException<ScriptedVisit>(new InvalidOperationException(
                        $"Visit {index} is no longer kept: the browser keeps the latest {_options.MaxVisitsKept} (ScriptedBrowserOptions.MaxVisitsKept)."));
                return launched.WaitAsync(cancellationToken);
            }

            // Checked under the gate DisposeAsync takes after setting the flag: a waiter is either faulted there or refused here.
            if (Volatile.Read(ref _disposed) != 0) return Task.FromException<ScriptedVisit>(NeverLaunched());
            waiter = new TaskCompletionSource<ScriptedVisit>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_waiters.TryGetValue(index, out var waiting)) _waiters.Add(index, waiting = []);
            waiting.Add(waiter);
        }

        return cancellationToken.CanBeCanceled ? WaitForLaunchAsync(index, waiter, cancellationToken) : WaitForLaunchWithinAsync(index, waiter);
    }

    private async Task<ScriptedVisit> WaitForLaunchWithinAsync(int index, TaskCompletionSource<ScriptedVisit> waiter)
    {
        using var limit = new CancellationTokenSource(_options.LaunchWait);
        try
        {
            return await WaitForLaunchAsync(index, waiter, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            int launched;
            lock (_gate) launched = _launched;
            throw new TimeoutException(
                $"Visit {index} was not launched within {_options.LaunchWait.TotalSeconds:0.#} seconds ({launched} launched so far): its login may have " +
                "ended before the browser opened (a failed discovery, a refused push, the pending-login limit). Pass a CancellationToken to wait otherwise.");
        }
    }

    /// <summary>Completes when every visit launched so far has ended (forgotten ones included).</summary>
    public Task WhenAllCompletedAsync(CancellationToken cancellationToken = default)
    {
        Task[] running;
        lock (_gate)
        {
            running = [.. _running.Values];
        }

        return Task.WhenAll(running).WaitAsync(cancellationToken);
    }

    /// <summary>Cancels running visits, waits for them to record their outcome, and releases the HTTP clients.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        Task[] running;
        TaskCompletionSource<ScriptedVisit>[] orphans;
        lock (_gate)
        {
            running = [.. _running.Values];
            orphans = [.. _waiters.Values.SelectMany(w => w)];
            _waiters.Clear();
        }

        // No visit is launched any more: a test awaiting one without a token would otherwise hang.
        foreach (var orphan in orphans) orphan.TrySetException(NeverLaunched());

        // RunAsync never throws, so this only waits.
        await Task.WhenAll(running).ConfigureAwait(false);
        _authorizeClient.Dispose();
        _slots.Dispose();
        _disposing.Dispose();
    }

    /// <summary>In-flight visits (for tests that finished ones are not held).</summary>
    internal int RunningVisits
    {
        get
        {
            lock (_gate) return _running.Count;
        }
    }

    /// <summary>Callers of <see cref="VisitAsync(int, CancellationToken)"/> still waiting for a launch (for tests that none is held after it gave up).</summary>
    internal int PendingWaiters
    {
        get
        {
            lock (_gate) return _waiters.Values.Sum(w => w.Count);
        }
    }

    private static ObjectDisposedException NeverLaunched() =>
        new(nameof(ScriptedBrowser), "The browser was disposed before this visit was launched.");

    /// <summary>Waits for a launch until <paramref name="cancellationToken"/> gives up, then takes the waiter out.</summary>
    private async Task<ScriptedVisit> WaitForLaunchAsync(int index, TaskCompletionSource<ScriptedVisit> waiter, CancellationToken cancellationToken)
    {
        try
        {
            return await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                if (_waiters.TryGetValue(index, out var waiting) && waiting.Remove(waiter) && waiting.Count == 0) _waiters.Remove(index);
            }

            throw;
        }
    }

    private async Task PlayAsync(ScriptedVisit visit, Exception? scriptError, CancellationToken loginToken)
    {
        try
        {
            if (scriptError is null) await RunAsync(visit, loginToken).ConfigureAwait(false);
            else Finish(visit, new ScriptedVisitResult(ScriptedVisitOutcome.Failed, null, null, null, null, scriptError));
        }
        finally
        {
            lock (_gate)
            {
                _running.Remove(visit.Index);
            }
        }
    }

    private async Task RunAsync(ScriptedVisit visit, CancellationToken loginToken)
    {
        ScriptedVisitResult result;
        try
        {
            result = await VisitAsync(visit, loginToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (loginToken.IsCancellationRequested || _disposing.IsCancellationRequested)
        {
            result = new ScriptedVisitResult(ScriptedVisitOutcome.Cancelled, null, null, null, null, ex);
        }
        catch (Exception ex)
        {
            result = new ScriptedVisitResult(ScriptedVisitOutcome.Failed, null, null, null, null, ex);
        }

        Finish(visit, result);
    }

    private void Finish(ScriptedVisit visit, ScriptedVisitResult result)
    {
        visit.Complete(result);
        try
        {
            VisitCompleted?.Invoke(this, visit);
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _handlerErrors.Add(ex);
            }
        }
    }

    private async Task<ScriptedVisitResult> VisitAsync(ScriptedVisit visit, CancellationToken loginToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(loginToken, _disposing.Token);
        await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
        try
        {
            using var authorizeRequest = NewGet(visit.AuthorizeUrl, closeConnection: false);
            using var authorizeResponse = await _authorizeClient.SendAsync(authorizeRequest, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var authorizeStatus = (int)authorizeResponse.StatusCode;
            var location = authorizeResponse.Headers.Location;
            if (authorizeStatus is < 300 or > 399 || location is null)
            {
                var page = await ReadBodyAsync(authorizeResponse, linked.Token).ConfigureAwait(false);
                return new ScriptedVisitResult(ScriptedVisitOutcome.NoRedirect, authorizeStatus, null, null, page, null);
            }

            var callback = location.IsAbsoluteUri ? location : new Uri(visit.AuthorizeUrl, location);
            if (visit.Action == BrowserAction.Abandon)
            {
                return new ScriptedVisitResult(ScriptedVisitOutcome.Abandoned, authorizeStatus, callback, null, null, null);
            }

            // The landing is not tied to the login's token: the login may finish (and cancel) while its own page is served.
            return await LandAsync(callback, authorizeStatus, _disposing.Token).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<ScriptedVisitResult> LandAsync(Uri callback, int authorizeStatus, CancellationToken cancellationToken)
    {
        // A new handler per landing guarantees a fresh TCP (and TLS) connection, as a new browser tab often opens.
        using var client = new HttpClient(CreateHandler(), disposeHandler: true) { Timeout = _options.RequestTimeout };
        using var request = NewGet(callback, closeConnection: true);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
        return new ScriptedVisitResult(ScriptedVisitOutcome.Landed, authorizeStatus, callback, (int)response.StatusCode, body, null);
    }

    private SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        if (_options.TrustedRoot is { } root)
        {
            // Like a browser with that CA installed: the system store still counts, so an mkcert callback and a
            // development-CA sandbox can be mixed in one test.
            handler.SslOptions.RemoteCertificateValidationCallback = CustomRootTrust.CreateBrowserCallback(root);
        }

        return handler;
    }

    private static HttpRequestMessage NewGet(Uri url, bool closeConnection)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.UserAgent.ParseAdd(UserAgent);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        if (closeConnection)
        {
            request.Headers.ConnectionClose = true;
        }

        return request;
    }

    private async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream);
        var buffer = new char[Math.Min(_options.MaxBodyChars, 8192) + 1];
        var text = new System.Text.StringBuilder();
        int read;
        while (text.Length < _options.MaxBodyChars
               && (read = await reader.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, _options.MaxBodyChars - text.Length)), cancellationToken).ConfigureAwait(false)) > 0)
        {
            text.Append(buffer, 0, read);
        }

        return text.ToString();
    }
}
