using System.Collections.Concurrent;

namespace O8Actors.Logout;

/// <summary>
/// The accounts a back-channel logout signed out whose app callback (<c>OnSignedOut</c>) then failed, kept per token
/// (provider and <c>jti</c>) until the token could no longer be accepted. The provider posts the token again (Back-Channel
/// Logout 1.0 sections 2.7-2.8: the 500 tells it the logout did not complete); by then those accounts hold no tokens, so
/// the retry would sign out nobody and hand the app an empty list. It reports them from here instead.
/// </summary>
/// <remarks>One per process: a retry that reaches another node of a cluster reports only what it signed out there.</remarks>
internal sealed class LogoutCarryOver
{
    // Bounded: each entry is a token the provider will retry, and a flood of failing callbacks must not grow it for good.
    internal const int MaxTokens = 1024;
    private readonly ConcurrentDictionary<(string Provider, string JwtId), (IReadOnlyList<SignOutResult> SignedOut, DateTimeOffset Until)> _kept = new();

    /// <summary>Keeps <paramref name="signedOut"/> for a retry of the token until <paramref name="until"/>; false when full.</summary>
    public bool Keep(string provider, string jwtId, IReadOnlyList<SignOutResult> signedOut, DateTimeOffset until, DateTimeOffset now)
    {
        foreach (var (key, value) in _kept)
            if (value.Until <= now) _kept.TryRemove(key, out _);
        if (signedOut.Count == 0) return true;
        if (_kept.Count >= MaxTokens && !_kept.ContainsKey((provider, jwtId))) return false;
        _kept[(provider, jwtId)] = (signedOut, until);
        return true;
    }

    /// <summary>Takes what an earlier attempt of the token signed out (empty when nothing is kept).</summary>
    public IReadOnlyList<SignOutResult> Take(string provider, string jwtId, DateTimeOffset now) =>
        _kept.TryRemove((provider, jwtId), out var kept) && kept.Until > now ? kept.SignedOut : [];
}
