using System.Collections.Concurrent;

namespace O8Actors.TestKit;

/// <summary>
/// Records the <see cref="LoginEvent"/>s of an orchestrator (subscribe it to <see cref="IOAuthLogins.Events"/>) and lets a
/// test wait for one without sleeping. Events never carry tokens or codes, so everything here is safe to print.
/// It keeps the latest <see cref="MaxEventsKept"/> events (older ones are forgotten, so a long-lived recorder does not
/// grow): <see cref="Events"/>, <see cref="Ended"/>, <see cref="For"/>, <see cref="CountEnded"/> and the events
/// <see cref="WaitForAsync{TEvent}"/> finds already recorded are those kept.
/// </summary>
public sealed class LoginEventRecorder : IObserver<LoginEvent>
{
    /// <summary>
    /// The <see cref="MaxEventsKept"/> of a recorder made without one: every event of the thousands of logins a soak or a
    /// parallel run makes (about six each), so a test that counts ends finds them all, while a fixture that lives for a
    /// whole suite stays bounded (some 20 MB at the cap).
    /// </summary>
    public const int DefaultMaxEventsKept = 100_000;

    private readonly ConcurrentQueue<LoginEvent> _events = new();
    private readonly Lock _gate = new();
    private readonly List<(Func<LoginEvent, bool> Match, TaskCompletionSource<LoginEvent> Done)> _waiters = [];

    /// <summary>A recorder that keeps the latest <see cref="DefaultMaxEventsKept"/> events.</summary>
    public LoginEventRecorder()
        : this(DefaultMaxEventsKept)
    {
    }

    /// <summary>A recorder that keeps the latest <paramref name="maxEventsKept"/> events.</summary>
    /// <param name="maxEventsKept">How many events to keep (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEventsKept"/> is less than 1.</exception>
    public LoginEventRecorder(int maxEventsKept)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventsKept, 1);
        MaxEventsKept = maxEventsKept;
    }

    /// <summary>How many of the latest events are kept; older ones are forgotten.</summary>
    public int MaxEventsKept { get; }

    /// <summary>The latest events (at most <see cref="MaxEventsKept"/>), in arrival order (a snapshot).</summary>
    public IReadOnlyList<LoginEvent> Events => _events.ToArray();

    /// <summary>Every login that ended among the kept events (a snapshot).</summary>
    public IReadOnlyList<LoginEndedEvent> Ended => _events.OfType<LoginEndedEvent>().ToArray();

    /// <summary>The kept events of one login, in order.</summary>
    public IReadOnlyList<LoginEvent> For(string loginId) => _events.Where(e => e.LoginId == loginId).ToArray();

    /// <summary>How many logins ended with <paramref name="kind"/> among the kept events.</summary>
    public int CountEnded(LoginOutcomeKind kind) => _events.OfType<LoginEndedEvent>().Count(e => e.Outcome == kind);

    /// <summary>The first event (already recorded and kept, or still to come) matching <paramref name="match"/>.</summary>
    /// <param name="match">Which event; if it throws for an event still to come, the returned task faults with that exception.</param>
    /// <param name="timeout">How long to wait (default 10 s); then <see cref="TimeoutException"/> saying what was seen.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<TEvent> WaitForAsync<TEvent>(Func<TEvent, bool>? match = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TEvent : LoginEvent
    {
        bool Matches(LoginEvent e) => e is TEvent typed && (match?.Invoke(typed) ?? true);
        TaskCompletionSource<LoginEvent> done;
        lock (_gate)
        {
            // Checked under the lock that OnNext takes, so an event arriving now is either seen here or by the waiter.
            if (_events.FirstOrDefault(Matches) is TEvent seen) return seen;
            done = new TaskCompletionSource<LoginEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((Matches, done));
        }

        var limit = timeout ?? TimeSpan.FromSeconds(10);
        try
        {
            return (TEvent)await done.Task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"No matching {typeof(TEvent).Name} within {limit.TotalSeconds:0.###} s; seen: {string.Join(", ", Events.Select(e => e.GetType().Name).GroupBy(n => n).Select(g => $"{g.Key}×{g.Count()}"))}.");
        }
        finally
        {
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }
        }
    }

    /// <summary>Waits until the login <paramref name="loginId"/> ends and returns its last event.</summary>
    public Task<LoginEndedEvent> WaitForEndAsync(string loginId, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitForAsync<LoginEndedEvent>(e => e.LoginId == loginId, timeout, cancellationToken);

    /// <inheritdoc />
    public void OnNext(LoginEvent value)
    {
        ArgumentNullException.ThrowIfNull(value);
        List<(TaskCompletionSource<LoginEvent> Done, Exception? Error)>? settled = null;
        lock (_gate)
        {
            _events.Enqueue(value);
            while (_events.Count > MaxEventsKept && _events.TryDequeue(out _))
            {
            }

            // Each waiter on its own: a test's throwing predicate fails its own wait, never the others' or the publisher.
            foreach (var (match, done) in _waiters)
            {
                try
                {
                    if (match(value)) (settled ??= []).Add((done, null));
                }
                catch (Exception ex)
                {
                    (settled ??= []).Add((done, ex));
                }
            }
        }

        if (settled is null) return;
        foreach (var (done, error) in settled)
        {
            if (error is null) done.TrySetResult(value);
            else done.TrySetException(error);
        }
    }

    /// <inheritdoc />
    public void OnCompleted()
    {
    }

    /// <inheritdoc />
    public void OnError(Exception error)
    {
    }
}
