using System.Collections.Concurrent;

namespace O8Actors.Examples.WebConnect;

/// <summary>Each user's latest connection attempt per provider (a real app keeps tokens in its own encrypted store).</summary>
internal sealed class Connections
{
    private readonly ConcurrentDictionary<(string User, string Provider), Attempt> _attempts = new();

    public void Track(string user, string provider, Task<LoginOutcome> outcome)
    {
        var attempt = new Attempt();
        _attempts[(user, provider)] = attempt;
        _ = attempt.FollowAsync(outcome);
    }

    /// <summary>What the user's page shows of the user's own attempts: pending, or how the login ended (never a token).</summary>
    public IReadOnlyDictionary<string, ConnectionStatus> Describe(string user) => _attempts
        .Where(a => a.Key.User == user)
        .ToDictionary(a => a.Key.Provider, a => a.Value.Status);

    /// <summary>One attempt: pending until its outcome arrives, then how it ended.</summary>
    private sealed class Attempt
    {
        private volatile ConnectionStatus _status = new("Pending", null);

        public ConnectionStatus Status => _status;

        public async Task FollowAsync(Task<LoginOutcome> outcome)
        {
            try
            {
                var ended = await outcome.ConfigureAwait(false);
                _status = new ConnectionStatus(ended is LoginFailed f ? $"{f.Kind} ({f.Failure})" : ended.Kind.ToString(), ended.LoginId);
            }
            catch
            {
                _status = new ConnectionStatus("Failed", null);
            }
        }
    }
}

/// <summary>One connection's state as shown to its user.</summary>
internal sealed record ConnectionStatus(string Status, string? LoginId);
