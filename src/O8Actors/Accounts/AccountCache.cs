using System.Collections.Concurrent;

namespace O8Actors.Accounts;

/// <summary>
/// The fast path of <c>GetAccessTokenAsync</c>: each account actor publishes its current token here with the moment it
/// stops being fresh, and a caller whose request the actor would answer from memory anyway (no scopes, no forced
/// refresh, still fresh) gets it without a message, an Ask or an allocation. Everything else (a stale token, scopes, a
/// forced refresh) goes to the actor, which alone refreshes, stores and signs out.
/// </summary>
internal sealed class AccountCache
{
    private readonly ConcurrentDictionary<OAuthAccount, Entry> _entries = new();

    private sealed record Entry(AccessToken Published, Task<AccessToken> Token, DateTimeOffset FreshUntil);

    /// <summary>Publishes the account's current token, fresh until <paramref name="freshUntil"/> (scheduler time).</summary>
    public void Publish(AccessToken token, DateTimeOffset freshUntil) =>
        _entries[token.Account] = new Entry(token, Task.FromResult(token), freshUntil);

    /// <summary>
    /// Withdraws <paramref name="published"/> (signed out, no tokens, actor stopped) unless a newer token replaced it:
    /// a retired actor stopping must not withdraw what its successor already published.
    /// </summary>
    public void Forget(AccessToken? published)
    {
        if (published is null) return;
        if (_entries.TryGetValue(published.Account, out var entry) && ReferenceEquals(entry.Published, published))
            _entries.TryRemove(KeyValuePair.Create(published.Account, entry));
    }

    /// <summary>The account's token when it is fresh at <paramref name="now"/>; a completed task, allocated once per token.</summary>
    public bool TryGet(OAuthAccount account, DateTimeOffset now, out Task<AccessToken> token)
    {
        if (_entries.TryGetValue(account, out var entry) && now < entry.FreshUntil)
        {
            token = entry.Token;
            return true;
        }

        token = null!;
        return false;
    }
}
