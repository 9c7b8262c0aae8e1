using System.Collections.Concurrent;

namespace O8Actors.TestKit;

/// <summary>
/// Records every <see cref="LoginEvent"/> of an orchestrator (subscribe it to <see cref="IOAuthLogins.Events"/>) and lets a
/// test wait for one without sleeping. Events never carry tokens or codes, so everything here is safe to print.
/// </summary>
public sealed class LoginEventRecorder : IObserver<LoginEvent>
{
    private readonly ConcurrentQueue<LoginEvent> _events = new();
    private readonly Lock _gate = new();
    private readonly List<(Func<LoginEvent, bool> Match, TaskCompletionSource<LoginEvent> Done)> _waiters = [];

    /// <summary>Every event so far, in arrival order (a snapshot).</summary>
    public IReadOnlyList<LoginEvent> Events => _events.ToArray();

    /// <summary>Every login that ended so far (a snapshot).</summary>
    public IReadOnlyList<LoginEndedEvent> Ended => _events.OfType<LoginEndedEvent>().ToArray();

    /// <summary>The events of one login, in order.</summary>
    public IReadOnlyList<LoginEvent> For(string loginId) => _events.Where(e => e.LoginId == loginId).ToArray();

    /// <summary>How many logins ended with <paramref name="kind"/>.</summary>
    public int CountEnded(LoginOutcomeKind kind) => _events.OfType<LoginEndedEvent>().Count(e => e.Outcome == kind);

    /// <summary>The first event (already recorded or still to come) matching <paramref name="match"/>.</summary>
    /// <param name="match">Which event.</param>
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
        TaskCompletionSource<LoginEvent>[] matched;
        lock (_gate)
        {
            _events.Enqueue(value);
            matched = _waiters.Where(w => w.Match(value)).Select(w => w.Done).ToArray();
        }

        foreach (var done in matched) done.TrySetResult(value);
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
