using System.Collections.Concurrent;

namespace O8Actors.Examples.WebConnect;

/// <summary>Each user's latest connection attempt per provider (a real app keeps tokens in its own encrypted store).</summary>
internal sealed class Connections
{
    private readonly ConcurrentDictionary<(string User, string Provider), Task<LoginOutcome>> _attempts = new();

    public void Track(string user, string provider, Task<LoginOutcome> outcome) => _attempts[(user, provider)] = outcome;

    /// <summary>What the user's page shows: pending, or how the login ended (never a token).</summary>
    public object Describe(string user) => _attempts
        .Where(a => a.Key.User == user)
        .ToDictionary(a => a.Key.Provider, a => a.Value.IsCompletedSuccessfully
            ? (object)new { status = a.Value.Result.Kind.ToString(), loginId = a.Value.Result.LoginId }
            : new { status = a.Value.IsCompleted ? "Failed" : "Pending" });
}
