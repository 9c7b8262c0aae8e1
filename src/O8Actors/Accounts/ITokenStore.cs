namespace O8Actors;

/// <summary>
/// Where accounts keep their tokens. O8Actors ships <see cref="InMemoryTokenStore"/> (tests, servers until a database
/// store exists) and <see cref="FileTokenStore"/> (the desktop and CLI default: encrypted files in the user's data
/// folder). Implement it for your own storage.
/// </summary>
/// <remarks>
/// <para>Every write is a compare-and-set on <see cref="StoredTokens.Version"/>: <see cref="SaveAsync"/> succeeds only
/// when the stored version is still the one the writer read, so a rotated refresh token is never overwritten by an
/// older one, however many processes share the store.</para>
/// <para><see cref="LockAsync"/> is held by an account around "read, refresh, write": another holder (a second process
/// on the same store) waits, then reads the token the first one stored instead of spending the same refresh token
/// again, which a server with replay detection would answer by revoking both.</para>
/// <para>A stored record that will never read (a newer format, damage) is reported by
/// <see cref="StoredTokensUnreadableException"/>, not by another exception: a sign-out then removes it instead of failing,
/// and <see cref="RemoveAsync"/> must clear it. A payload that merely does not decrypt (a lost key ring) may be read as
/// absent instead; a store that does so must then let any save replace it, whatever version the save expected (the
/// returned version may then differ from <c>expectedVersion + 1</c>): a login saves over it, and a refresh that read
/// the account before its payload turned unreadable stores its rotated tokens instead of losing them.</para>
/// <para>A store must keep every part of <see cref="TokenSet"/> it is given, <see cref="TokenSet.DpopKey"/> (a private
/// key: keep it as protected as the refresh token) included: the tokens of a provider that binds them with DPoP
/// (RFC 9449) are refreshed with that key only. Tokens read back without it on such a provider are not refreshed as
/// bearer tokens; the account needs a new sign-in (<see cref="InteractionRequiredException"/>,
/// <see cref="InteractionReason.NoDpopKey"/>).</para>
/// <para>Implementations must be thread-safe; they are called from the accounts' actors through tasks.</para>
/// </remarks>
public interface ITokenStore
{
    /// <summary>The account's tokens, or null when none are stored.</summary>
    Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="tokens"/> when the stored version is <paramref name="expectedVersion"/> (0: nothing stored);
    /// the stored copy then has version <paramref name="expectedVersion"/> + 1, which is returned.
    /// </summary>
    /// <returns>The new version, or null when the stored version was another (someone wrote first: load again).</returns>
    Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Removes the account's tokens; nothing happens when none are stored.</summary>
    Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default);

    /// <summary>The accounts with stored tokens, of one provider or (null) of all.</summary>
    Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the account's refresh lock, waiting while another holder (in this process or another) has it; dispose the
    /// result to release it.
    /// </summary>
    Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default);
}

/// <summary>An account's stored tokens and their version (1 for the first write, one more for each later one).</summary>
/// <param name="Tokens">The tokens.</param>
/// <param name="Version">The version, for <see cref="ITokenStore.SaveAsync"/>'s compare-and-set.</param>
public sealed record StoredTokens(TokenSet Tokens, long Version);
