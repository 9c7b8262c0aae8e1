using O8Actors.Providers.IdTokens;

namespace O8Actors.Logout;

/// <summary>
/// The <c>jti</c> of every logout token accepted while it could still be accepted, so the same token posted again is
/// refused (OpenID Connect Back-Channel Logout 1.0 section 2.6, step 7). A token is remembered until its <c>exp</c>
/// (or, without one, <c>iat</c> plus the two minutes of <see cref="IdTokenValidator.LogoutTokenMaxAge"/>) plus
/// <see cref="Margin"/>, which covers any clock skew a provider is allowed: past that the token's lifetime check refuses
/// it anyway (no token is accepted later than its <c>exp</c>, nor than its <c>iat</c> plus that age, plus the skew).
/// </summary>
/// <remarks>
/// Owned by one actor (one thread at a time): the accounts' supervisor of a single node, or on a cluster one entity per
/// provider, so a token replayed to another node is refused too. Only tokens signed by the provider get here, so its
/// size is bounded by what the provider sends. A token whose logout is under way is held by that attempt for a lease
/// (<see cref="BackChannelLogoutCall.Lease"/>), which it renews as it goes: an attempt whose node stopped before it
/// completed or released the token cannot hold it until the token expires, and the provider's retry carries it out.
/// <para>On a cluster the entity that owns it may move to another node: it hands what it holds over
/// (<see cref="Export"/>), and the guard on the new node takes that in (<see cref="Merge"/>).</para>
/// </remarks>
internal sealed class LogoutTokenReplayGuard
{
    /// <summary>
    /// Kept past a token's end, beyond the largest clock skew a provider may be given: the validator accepts a token until
    /// its end plus the provider's skew, so a guard that forgot it sooner would let a replay through in between.
    /// </summary>
    public static readonly TimeSpan Margin = IdTokenValidator.MaxClockSkew + TimeSpan.FromMinutes(1);

    // Until when each token is remembered, whether its logout was carried out, and else which attempt holds it until when.
    private readonly Dictionary<string, LogoutTokenHold> _seen = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    /// <summary>Until when a replay of <paramref name="token"/> must be refused.</summary>
    public static DateTimeOffset KeepUntil(LogoutToken token)
    {
        // Held at DateTimeOffset.MaxValue rather than overflowing: a token with a far-future exp is refused as a replay for good.
        var end = token.ExpiresAt ?? NumericDate.Plus(token.IssuedAt, Providers.IdTokens.IdTokenValidator.LogoutTokenMaxAge);
        return NumericDate.Plus(end > token.IssuedAt ? end : token.IssuedAt, Margin);
    }

    /// <summary>
    /// <see cref="LogoutTokenCheck.Accepted"/> the first time a token id is seen (remembered until <paramref name="keepUntil"/>,
    /// its logout under way by <paramref name="attempt"/>, which holds it for <paramref name="lease"/>);
    /// <see cref="LogoutTokenCheck.InProgress"/> while that logout has neither completed nor been forgotten and its lease
    /// runs (a provider that posts again after its own timeout must not be told "replayed" by an attempt that may still
    /// fail); <see cref="LogoutTokenCheck.Replayed"/> once it completed. An attempt whose lease ran out without a
    /// renewal, completion or release is taken to have died with its node: the next post takes the token over and
    /// carries the logout out again (signing out an account already signed out does no harm).
    /// </summary>
    public LogoutTokenCheck Accept(string jwtId, string attempt, DateTimeOffset keepUntil, TimeSpan lease, DateTimeOffset now)
    {
        if (now >= _nextSweep)
        {
            foreach (var (id, kept) in _seen)
                if (kept.KeepUntil < now) _seen.Remove(id);
            _nextSweep = now + TimeSpan.FromMinutes(1);
        }

        if (_seen.TryGetValue(jwtId, out var seen) && seen.KeepUntil >= now)
        {
            if (seen.Completed) return LogoutTokenCheck.Replayed;
            if (seen.LeaseEnds > now) return LogoutTokenCheck.InProgress;
        }

        _seen[jwtId] = new LogoutTokenHold(jwtId, keepUntil, Completed: false, attempt, LeaseEnd(now, lease));
        return LogoutTokenCheck.Accepted;
    }

    /// <summary>
    /// <paramref name="attempt"/> is still carrying the token's logout out: its hold runs <paramref name="lease"/> from now.
    /// Nothing when another attempt took the token over meanwhile, or its logout completed.
    /// </summary>
    public void Renew(string jwtId, string attempt, TimeSpan lease, DateTimeOffset now)
    {
        if (_seen.TryGetValue(jwtId, out var seen) && !seen.Completed && seen.Attempt == attempt)
            _seen[jwtId] = seen with { LeaseEnds = LeaseEnd(now, lease) };
    }

    /// <summary>
    /// The token's logout was carried out: a post of it is a replay from now on. Recorded whichever attempt holds the token:
    /// one whose lease ran out and was taken over by a later post still signed the session's accounts out and told the app,
    /// so the token is spent; the attempt that took it over finds the accounts signed out, and its own end changes nothing.
    /// </summary>
    public void Complete(string jwtId)
    {
        if (_seen.TryGetValue(jwtId, out var seen)) _seen[jwtId] = seen with { Completed = true };
    }

    /// <summary>
    /// Forgets a token id, so the same token is accepted again (<paramref name="attempt"/>'s logout failed after it was
    /// accepted). Nothing unless that attempt still holds it: a late release must not free a token another attempt took
    /// over and is carrying out, nor one whose logout completed.
    /// </summary>
    public void Forget(string jwtId, string attempt)
    {
        if (_seen.TryGetValue(jwtId, out var seen) && !seen.Completed && seen.Attempt == attempt) _seen.Remove(jwtId);
    }

    /// <summary>
    /// Every token still remembered at <paramref name="now"/>, for another guard to take over (<see cref="Merge"/>): a copy
    /// of immutable entries, which this guard's later changes do not touch.
    /// </summary>
    public LogoutTokenHold[] Export(DateTimeOffset now) => _seen.Values.Where(hold => hold.KeepUntil >= now).ToArray();

    /// <summary>
    /// Takes in what another guard held (<see cref="Export"/>) beside what this one holds, so that neither's acceptances are
    /// forgotten: a token either of them remembers is remembered as long as the longer of the two says, spent if either
    /// saw its logout completed, and else held by the attempt whose lease ends later, until then (a hold is never
    /// shortened). A token whose time has passed at <paramref name="now"/> could no longer pass its lifetime check, and is left out.
    /// </summary>
    public void Merge(IEnumerable<LogoutTokenHold> holds, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(holds);
        foreach (var theirs in holds)
        {
            if (theirs.KeepUntil < now) continue;
            _seen[theirs.JwtId] = _seen.TryGetValue(theirs.JwtId, out var mine) && mine.KeepUntil >= now ? Stricter(mine, theirs) : theirs;
        }
    }

    // Of two records of one token, what neither would let through: the longer memory, a completion, the later lease.
    private static LogoutTokenHold Stricter(LogoutTokenHold mine, LogoutTokenHold theirs) =>
        (theirs.LeaseEnds > mine.LeaseEnds ? theirs : mine) with
        {
            KeepUntil = mine.KeepUntil > theirs.KeepUntil ? mine.KeepUntil : theirs.KeepUntil,
            Completed = mine.Completed || theirs.Completed,
        };

    private static DateTimeOffset LeaseEnd(DateTimeOffset now, TimeSpan lease) =>
        DateTimeOffset.MaxValue - now > lease ? now + lease : DateTimeOffset.MaxValue;
}
