using System.Collections.Concurrent;

namespace O8Actors.Logout;

/// <summary>
/// The sign-outs a back-channel logout sent whose attempt then failed (an account or the app's callback,
/// <c>OnSignedOut</c>, failed, or the provider's request went away), kept per token (provider and <c>jti</c>) until the
/// token could no longer be accepted: those signed out, and those still under way, which the account's actor carries
/// out whether or not anyone still waits. The provider posts the token again (Back-Channel Logout 1.0 sections 2.7-2.8:
/// the 500 tells it the logout did not complete); by then those accounts hold no tokens, so the retry would sign out
/// nobody and hand the app an empty list. It waits for them here and reports what they signed out instead.
/// </summary>
/// <remarks>One per process: a retry that reaches another node of a cluster reports only what it signed out there.</remarks>
internal sealed class LogoutCarryOver
{
    // Bounded: each entry is a token the provider will retry, and a flood of failing callbacks must not grow it for good.
    internal const int MaxTokens = 1024;
    private readonly ConcurrentDictionary<(string Provider, string JwtId), (IReadOnlyList<Task<SignOutResult?>> SignOuts, DateTimeOffset Until)> _kept = new();

    /// <summary>
    /// Keeps the sign-outs of a failed attempt (each ends in the account it signed out, or null when it signed out
    /// nobody; none faults) for a retry of the token until <paramref name="until"/>; false when full.
    /// </summary>
    public bool Keep(string provider, string jwtId, IEnumerable<Task<SignOutResult?>> signOuts, DateTimeOffset until, DateTimeOffset now)
    {
        foreach (var (key, value) in _kept)
            if (value.Until <= now) _kept.TryRemove(key, out _);
        // All of them, ended or not: the retry awaits each and reports those that signed someone out.
        IReadOnlyList<Task<SignOutResult?>> kept = [.. signOuts];
        if (kept.Count == 0) return true;
        if (_kept.Count >= MaxTokens && !_kept.ContainsKey((provider, jwtId))) return false;
        _kept[(provider, jwtId)] = (kept, until);
        return true;
    }

    /// <summary>Takes the sign-outs earlier attempts of the token kept (empty when none are).</summary>
    public IReadOnlyList<Task<SignOutResult?>> Take(string provider, string jwtId, DateTimeOffset now) =>
        _kept.TryRemove((provider, jwtId), out var kept) && kept.Until > now ? kept.SignOuts : [];
}
