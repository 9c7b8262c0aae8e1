using Akka.Actor;
using Akka.Event;
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
/// not decrypt reads as nothing stored, and any save replaces it (returning one more than the version it had), so the
/// account can sign in again and a refresh's rotated tokens are not dropped for it.</para>
/// <para><b>Lock.</b> <see cref="LockAsync"/> is this process's: one actor system is the writer of its registers
/// (in a cluster, sharding places each account on one node). Two actor systems without a cluster must not share one
/// database (Akka.Persistence allows one writer per persistence id, and each register serves its tokens from memory):
/// outside a cluster a SQLite file is locked for one actor system at start (<see cref="DatabaseLock"/>); a PostgreSQL
/// database is not, so two processes outside a cluster must not share one.</para>
/// <para><b>Listing.</b> The account list (<see cref="ListAsync"/>) is an index beside the registers, changed after the
/// register: a save or removal the register made is reported as done even when the index then fails (logged as a
/// Warning). An account whose index change failed, or whose register did not answer in time, is brought in step with what
/// its register holds before this store next lists, or by that account's next change (see <see cref="AccountListing"/>).</para>
/// </remarks>
public sealed class PersistentTokenStore : ITokenStore
{
    private readonly Task<IActorRef> _registers;
    private readonly TokenPayloads _payloads;
    private readonly TimeSpan _timeout;
    private readonly O8Actors.Accounts.AccountLocks _locks = new();
    private readonly AccountListing _listing;
    private readonly ILoggingAdapter _log;
    // Accounts whose payload was found not to decrypt, warned of once each (bounded: a store of many such accounts warns
    // of the first ones, which is enough to tell a key ring that differs from the writer's).
    private readonly HashSet<string> _undecryptableWarned = new(StringComparer.Ordinal);
    private const int MaxUndecryptableWarned = 1_000;

    /// <summary>A store whose registers are reached through <paramref name="registers"/> (a local parent or a shard region).</summary>
    internal PersistentTokenStore(Task<IActorRef> registers, IDataProtectionProvider dataProtection, TimeSpan timeout, ILoggingAdapter log)
    {
        _registers = registers;
        _payloads = new TokenPayloads(dataProtection);
        _timeout = timeout;
        _listing = new AccountListing(VersionOfAsync, IndexAsync, log);
        _log = log;
    }

    /// <inheritdoc />
    public async Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var loaded = await AskAsync<TokensLoaded>(new LoadTokens(account.Id), cancellationToken).ConfigureAwait(false);
        if (loaded.Payload is null) return null;
        if (_payloads.Unprotect(account, loaded.Payload) is { } tokens) return new StoredTokens(tokens, loaded.Version);
        WarnUndecryptable(account);
        return null;
    }

    /// <summary>
    /// Stored tokens that do not decrypt read as none (the account signs in again, and its next save replaces them), which
    /// looks like a sign-out: said once per account, so an operator can tell a key ring that is not the writer's (a node
    /// of a cluster whose Data Protection keys are not shared, a key ring folder that moved) from users signing out.
    /// </summary>
    private void WarnUndecryptable(OAuthAccount account)
    {
        lock (_undecryptableWarned)
        {
            if (_undecryptableWarned.Count >= MaxUndecryptableWarned || !_undecryptableWarned.Add(account.Id)) return;
        }

        _log.Warning("Token store: the stored tokens of {0} do not decrypt with this process's Data Protection keys (the key ring is " +
            "not the one that wrote them, or their key is gone); the account reads as signed out, and its next sign-in replaces them. " +
            "Share one key ring between every process of the store.", account);
    }

    /// <inheritdoc />
    public async Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(tokens);
        var payload = _payloads.Protect(account, tokens);
        // Numbered before the register hears of it: a save whose answer times out may still be done, and is then listed.
        var change = _listing.Begin(account.Id);
        try
        {
            var saved = await SaveOrReplaceUnreadableAsync(account, payload, expectedVersion, cancellationToken).ConfigureAwait(false);
            await _listing.SavedAsync(change, saved, cancellationToken).ConfigureAwait(false);
            return saved;
        }
        finally
        {
            _listing.End(change);
        }
    }

    private async Task<long?> SaveOrReplaceUnreadableAsync(OAuthAccount account, byte[] payload, long expectedVersion, CancellationToken cancellationToken)
    {
        var saved = await AskAsync<TokensSaved>(new SaveTokens(account.Id, payload, expectedVersion), cancellationToken).ConfigureAwait(false);
        if (saved.Version is null)
        {
            // LoadAsync told the writer "nothing stored" for a payload that does not decrypt (key ring lost, another
            // account's row): as good as absent, so a save goes over it, at the version that unreadable payload still
            // has, whatever version it expected (as FileTokenStore does): a login expecting nothing, and a refresh whose
            // stored copy turned unreadable after it was read, whose rotated tokens would otherwise be dropped. Read anew:
            // a readable payload (someone did write) still refuses, and the register's compare-and-set refuses if it
            // changes in between.
            var loaded = await AskAsync<TokensLoaded>(new LoadTokens(account.Id), cancellationToken).ConfigureAwait(false);
            if (loaded.Payload is not null && _payloads.Unprotect(account, loaded.Payload) is null)
                saved = await AskAsync<TokensSaved>(new SaveTokens(account.Id, payload, loaded.Version), cancellationToken).ConfigureAwait(false);
        }

        return saved.Version;
    }

    /// <inheritdoc />
    public async Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var change = _listing.Begin(account.Id);
        try
        {
            await AskAsync<TokensErased>(new EraseTokens(account.Id), cancellationToken).ConfigureAwait(false);
            await _listing.RemovedAsync(change, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _listing.End(change);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default)
    {
        // A repair that still fails leaves the listing below to fail (or list) as the index answers.
        await _listing.RepairAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>How many accounts have a change under way or an index entry that may be out of step.</summary>
    internal int ListingsMarked => _listing.Marked;

    private async Task<long> VersionOfAsync(string accountId, CancellationToken cancellationToken) =>
        (await AskAsync<TokensLoaded>(new LoadTokens(accountId), cancellationToken).ConfigureAwait(false)).Version;

    private Task IndexAsync(string accountId, bool listed, CancellationToken cancellationToken) =>
        AskAsync<AccountIndexed>(new IndexAccount(accountId, listed), cancellationToken);

    private async Task<T> AskAsync<T>(ITokenRegisterMessage message, CancellationToken cancellationToken)
    {
        var registers = await _registers.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        return await registers.Ask<object>(message, _timeout, cancellationToken).ConfigureAwait(false) switch
        {
            T answer => answer,
            RegisterFailed failed => throw failed.ToException(),
            RegisterUnavailable unavailable => throw unavailable.ToException(),
            var other => throw new InvalidOperationException($"The token register answered {other.GetType().Name} where {typeof(T).Name} was expected."),
        };
    }

    /// <summary>The account of an <see cref="OAuthAccount.Id"/> (<c>provider/key</c>, both escaped).</summary>
    internal static OAuthAccount? Parse(string id)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 ? null : new OAuthAccount(Uri.UnescapeDataString(id[..slash]), Uri.UnescapeDataString(id[(slash + 1)..]));
    }
}
