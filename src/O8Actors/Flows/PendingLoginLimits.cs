using Akka.Event;
using O8Actors.Configuration;
using O8Actors.Diagnostics;

namespace O8Actors.Flows;

/// <summary>
/// Bounded work: counts the logins that wait, per partition, and refuses a new one once <c>o8.login.max-pending</c> or
/// <c>o8.login.max-pending-per-partition</c> is reached. Used by the actor that admits logins (the flows supervisor, or
/// a cluster node's gateway); owned by that actor, so it is not thread-safe.
/// </summary>
/// <remarks>
/// The total is the owner's own table's count (it keeps one anyway); only logins with a partition are remembered here,
/// with their partition, and a partition at zero is removed, so the tables hold nothing for logins that ended.
/// </remarks>
internal sealed class PendingLoginLimits(LoginOptions options, ILoggingAdapter log)
{
    private readonly Dictionary<string, string> _partitionOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perPartition = new(StringComparer.Ordinal);

    /// <summary>
    /// The refusal for a login about to start while <paramref name="waiting"/> others wait, or null when it may start.
    /// Judged before any actor or secret is made, so a flood of logins costs one message each and holds nothing.
    /// </summary>
    public LoginFailed? Refusal(string loginId, string? partition, int waiting)
    {
        if (waiting >= options.MaxPending)
            return Refuse(loginId, LoginFailure.TooManyPendingLogins, "o8.login.max-pending", options.MaxPending);
        if (partition is not null && _perPartition.GetValueOrDefault(partition) >= options.MaxPendingPerPartition)
            return Refuse(loginId, LoginFailure.TooManyPendingLoginsInPartition, "o8.login.max-pending-per-partition", options.MaxPendingPerPartition);
        return null;
    }

    /// <summary>Counts a login that started.</summary>
    public void Started(string loginId, string? partition)
    {
        if (partition is null) return;
        _partitionOf.Add(loginId, partition);
        _perPartition[partition] = _perPartition.GetValueOrDefault(partition) + 1;
    }

    /// <summary>Forgets a login that ended (nothing happens for one that was never counted).</summary>
    public void Ended(string loginId)
    {
        if (!_partitionOf.Remove(loginId, out var partition)) return;
        var left = _perPartition[partition] - 1;
        if (left == 0) _perPartition.Remove(partition);
        else _perPartition[partition] = left;
    }

    /// <summary>Forgets every login (the owner stopped).</summary>
    public void Clear()
    {
        _partitionOf.Clear();
        _perPartition.Clear();
    }

    private LoginFailed Refuse(string loginId, LoginFailure failure, string setting, int limit)
    {
        // Debug, not Warning: a flood of refusals must not become a flood of log lines. The partition is the app's own
        // value (maybe a user id), so it is not logged.
        log.Debug("Login {0} refused: {1} ({2}) is reached", loginId, setting, limit);
        O8Metrics.LoginsRefused.Add(1, O8Metrics.Reason(failure));
        return new LoginFailed(loginId, failure, TooManyPendingLoginsException.Describe(setting, limit));
    }
}
