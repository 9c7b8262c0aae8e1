using System.Collections.Concurrent;

namespace O8Actors.Examples.WebConnect;

/// <summary>Each user's latest connection attempt per provider (a real app keeps tokens in its own encrypted store).</summary>
internal sealed class Connections
{
    private readonly ConcurrentDictionary<(string User, string Provider), Task<LoginOutcome>> _attempts = new();

    public void Track(string user, string provider, Task<LoginOutcome> outcome) => _attempts[(user, provider)] = outcome;

    /// <summary>What the user's page shows of the user's own attempts: pending, or how the login ended (never a token).</summary>
    public IReadOnlyDictionary<string, ConnectionStatus> Describe(string user) => _attempts
        .Where(a => a.Key.User == user)
        .ToDictionary(a => a.Key.Provider, a => a.Value.IsCompletedSuccessfully
            ? new ConnectionStatus(a.Value.Result is LoginFailed f ? $"{f.Kind} ({f.Failure})" : a.Value.Result.Kind.ToString(), a.Value.Result.LoginId)
            : new ConnectionStatus(a.Value.IsCompleted ? "Failed" : "Pending", null));
}

/// <summary>One connection's state as shown to its user.</summary>
internal sealed record ConnectionStatus(string Status, string? LoginId);
