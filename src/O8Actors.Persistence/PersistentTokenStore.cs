using Akka.Actor;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Persistence.Registers;

namespace O8Actors.Persistence;

/// <summary>
/// The server-mode <see cref="ITokenStore"/>: each account's tokens live in a persistent actor (a register) journaled
/// through Akka.Persistence, by default Akka.Persistence.Sql on SQLite or PostgreSQL; set up with
/// <see cref="O8PersistenceHostingExtensions.WithOAuthAccountsPersistence(Akka.Hosting.AkkaConfigurationBuilder, Action{O8PersistenceOptions}?)"/>.
/// </summary>
/// <remarks>
/// <para><b>At rest.</b> The store encrypts a token set with ASP.NET Core Data Protection before it leaves for the
/// register; the journal, the snapshots and any message between nodes hold only that ciphertext.</para>
/// <para><b>Versions.</b> A save is a compare-and-set inside the account's register, which is the single writer of its
/// persistence id, so an older token set written after a newer one is refused, whichever node writes. A payload that does
/// not decrypt reads as nothing stored and counts as version 0 for a save, so the account can sign in again.</para>
/// <para><b>Lock.</b> <see cref="LockAsync"/> is this process's: one actor system is the writer of its registers
/// (in a cluster, sharding places each account on one node). Two actor systems without a cluster must not share one
/// database: Akka.Persistence allows one writer per persistence id.</para>
/// </remarks>
public sealed class PersistentTokenStore : ITokenStore
{
    private readonly Task<IActorRef> _registers;
    private readonly TokenPayloads _payloads;
    private readonly TimeSpan _timeout;
    private readonly O8Actors.Accounts.AccountLocks _locks = new();

    /// <summary>A store whose registers are reached through <paramref name="registers"/> (a local parent or a shard region).</summary>
    internal PersistentTokenStore(Task<IActorRef> registers, IDataProtectionProvider dataProtection, TimeSpan timeout)
    {
        _registers = registers;
        _payloads = new TokenPayloads(dataProtection);
        _timeout = timeout;
    }

    /// <inheritdoc />
    public async Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var loaded = await AskAsync<TokensLoaded>(new LoadTokens(account.Id), cancellationToken).ConfigureAwait(false);
        if (loaded.Payload is null) return null;
        return _payloads.Unprotect(account, loaded.Payload) is { } tokens ? new StoredTokens(tokens, loaded.Version) : null;
    }

    /// <inheritdoc />
    public async Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(tokens);
        var payload = _payloads.Protect(account, tokens);
        var saved = await AskAsync<TokensSaved>(new SaveTokens(account.Id, payload, expectedVersion), cancellationToken).ConfigureAwait(false);
        if (saved.Version is null && expectedVersion == 0)
        {
            // LoadAsync told the writer "nothing stored" for a payload that does not decrypt (key ring lost, another
            // account's row): as good as absent, so a save expecting nothing goes over it, at the version that unreadable
            // payload still has. Read anew: a readable payload (someone did write) still refuses, and the register's
            // compare-and-set refuses if it changes in between.
            var loaded = await AskAsync<TokensLoaded>(new LoadTokens(account.Id), cancellationToken).ConfigureAwait(false);
            if (loaded.Payload is not null && _payloads.Unprotect(account, loaded.Payload) is null)
                saved = await AskAsync<TokensSaved>(new SaveTokens(account.Id, payload, loaded.Version), cancellationToken).ConfigureAwait(false);
        }

        // The first version of an account lists it; a later one is already listed.
        if (saved.Version == 1)
            await AskAsync<AccountIndexed>(new IndexAccount(account.Id, Listed: true), cancellationToken).ConfigureAwait(false);
        return saved.Version;
    }

    /// <inheritdoc />
    public async Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        await AskAsync<TokensErased>(new EraseTokens(account.Id), cancellationToken).ConfigureAwait(false);
        await AskAsync<AccountIndexed>(new IndexAccount(account.Id, Listed: false), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default)
    {
        var ids = await AskAsync<AccountIds>(new ListAccountIds(), cancellationToken).ConfigureAwait(false);
        return ids.Ids.Select(Parse).OfType<OAuthAccount>()
            .Where(a => provider is null || a.Provider == provider)
            .OrderBy(a => a.Id, StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        return await _locks.TakeAsync(account, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many accounts have their refresh lock held or waited for (the others hold no memory for it).</summary>
    internal int LocksInUse => _locks.Count;

    private async Task<T> AskAsync<T>(ITokenRegisterMessage message, CancellationToken cancellationToken)
    {
        var registers = await _registers.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        return await registers.Ask<T>(message, _timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The account of an <see cref="OAuthAccount.Id"/> (<c>provider/key</c>, both escaped).</summary>
    internal static OAuthAccount? Parse(string id)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 ? null : new OAuthAccount(Uri.UnescapeDataString(id[..slash]), Uri.UnescapeDataString(id[(slash + 1)..]));
    }
}
