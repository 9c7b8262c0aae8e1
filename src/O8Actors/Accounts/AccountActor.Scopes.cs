namespace O8Actors.Accounts;

/// <summary>
/// Which callers a token or a token request serves by its scopes: whether granted scopes cover a caller's, and which
/// scopes a refresh or an interactive login asks for and for whom.
/// </summary>
internal sealed partial class AccountActor
{
    /// <summary>
    /// Whether the granted scope holds every requested one (an unknown granted scope is taken as covering). Split on
    /// spaces (RFC 6749 section 3.3) and on commas, which some providers answer with (GitHub's <c>repo,gist</c>).
    /// </summary>
    private static bool Covers(string? granted, IReadOnlyList<string>? requested)
    {
        if (requested is not { Count: > 0 } || string.IsNullOrWhiteSpace(granted)) return true;
        var have = granted.Split(ScopeSeparators, StringSplitOptions.RemoveEmptyEntries);
        return requested.All(s => have.Contains(s, StringComparer.Ordinal));
    }

    private static readonly char[] ScopeSeparators = [' ', ','];

    /// <summary>
    /// The scopes this round's refresh asks for: those of the first caller that named scopes (null, the grant's own, when
    /// none did). Each caller that asked for the same set is marked as asked for; callers that asked for other scopes
    /// are served by the answer only if it covers them, else renewed for in a round of their own: one refresh per
    /// distinct set of scopes, never a union, which a provider may refuse (Entra ID takes the scopes of one resource per
    /// request). Callers whose scopes the provider refused to refresh (<see cref="Waiter.ScopesRefused"/>) are asked for no more.
    /// </summary>
    private IReadOnlyList<string>? RefreshScopes()
    {
        IReadOnlyList<string>? scopes = null;
        foreach (var waiter in _waiters)
        {
            if (!waiter.ScopesRefused && waiter.Request.Scopes is { Count: > 0 } named)
            {
                scopes = named;
                break;
            }
        }

        foreach (var waiter in _waiters) waiter.AskedFor = !waiter.ScopesRefused && WantsScopes(waiter.Request, scopes);
        return scopes;
    }

    /// <summary>
    /// Whether a token request that asks for <paramref name="asked"/> (null: the grant's own) is made for this caller: it
    /// named the same scopes, in any order, or named none and the request names none.
    /// </summary>
    private static bool WantsScopes(GetAccessToken request, IReadOnlyList<string>? asked) => SameOrNone(request.Scopes, asked);

    /// <summary>Whether a login asking for <paramref name="asked"/> is the one this caller's own would be (<see cref="LoginScopes"/>).</summary>
    private static bool WantsLogin(GetAccessToken request, IReadOnlyList<string>? asked) => SameOrNone(LoginScopes(request), asked);

    /// <summary>
    /// The scopes a login started for this caller asks for: its own login request's, else those it wants a token for;
    /// null when it names neither.
    /// </summary>
    private static IReadOnlyList<string>? LoginScopes(GetAccessToken request) =>
        request.Options.Login?.Scopes ?? (request.Scopes is { Count: > 0 } scopes ? scopes : null);

    /// <summary>The same scopes in any order; no scopes (null or empty) on both sides counts as the same.</summary>
    private static bool SameOrNone(IReadOnlyList<string>? named, IReadOnlyList<string>? asked) =>
        named is not { Count: > 0 } ? asked is not { Count: > 0 } : SameScopes(named, asked);

    private static bool SameScopes(IReadOnlyList<string> named, IReadOnlyList<string>? asked) =>
        asked is not null && named.All(s => asked.Contains(s, StringComparer.Ordinal)) && asked.All(s => named.Contains(s, StringComparer.Ordinal));
}
