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
/// size is bounded by what the provider sends.
/// </remarks>
internal sealed class LogoutTokenReplayGuard
{
    /// <summary>
    /// Kept past a token's end, beyond the largest clock skew a provider may be given: the validator accepts a token until
    /// its end plus the provider's skew, so a guard that forgot it sooner would let a replay through in between.
    /// </summary>
    public static readonly TimeSpan Margin = IdTokenValidator.MaxClockSkew + TimeSpan.FromMinutes(1);

    // Until when each token is remembered, and whether its logout was carried out (else an attempt is still under way).
    private readonly Dictionary<string, (DateTimeOffset Until, bool Completed)> _seen = new(StringComparer.Ordinal);
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
    /// its logout under way); <see cref="LogoutTokenCheck.InProgress"/> while that logout has neither completed nor been
    /// forgotten (a provider that posts again after its own timeout must not be told "replayed" by an attempt that may
    /// still fail); <see cref="LogoutTokenCheck.Replayed"/> once it completed.
    /// </summary>
    public LogoutTokenCheck Accept(string jwtId, DateTimeOffset keepUntil, DateTimeOffset now)
    {
        if (now >= _nextSweep)
        {
            foreach (var (id, kept) in _seen)
                if (kept.Until < now) _seen.Remove(id);
            _nextSweep = now + TimeSpan.FromMinutes(1);
        }

        if (_seen.TryGetValue(jwtId, out var seen) && seen.Until >= now) return seen.Completed ? LogoutTokenCheck.Replayed : LogoutTokenCheck.InProgress;
        _seen[jwtId] = (keepUntil, Completed: false);
        return LogoutTokenCheck.Accepted;
    }

    /// <summary>The token's logout was carried out: a post of it is a replay from now on.</summary>
    public void Complete(string jwtId)
    {
        if (_seen.TryGetValue(jwtId, out var seen)) _seen[jwtId] = seen with { Completed = true };
    }

    /// <summary>Forgets a token id, so the same token is accepted again (its logout failed after it was accepted).</summary>
    public void Forget(string jwtId) => _seen.Remove(jwtId);
}
