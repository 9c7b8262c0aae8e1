using Akka.Actor;
using Akka.Event;
using O8Actors.Persistence.Registers;

namespace O8Actors.Persistence;

/// <summary>
/// Keeps the account index (the list behind <see cref="PersistentTokenStore.ListAsync"/>) converging to the registers.
/// Each change of an account's register is numbered and marks the account before its register message leaves; the mark
/// goes once the index holds what the register holds as of the account's latest change.
/// </summary>
/// <remarks>
/// <para>Why not a queue of wished values: a wish can be overtaken. A listing that failed, then a sign-out whose
/// unlisting succeeded, left "list" queued, and the account was listed again; a save whose register answer timed out
/// (the register still saved it) left nothing to retry. Here only the latest change of an account writes the index, and
/// an account left unsettled is repaired from its register's own state (tokens or none), never from an old wish.</para>
/// <para>Index writes run one at a time, so a repair's read of a register and its write of the index are not split by a
/// change's write. A repair reads the register after any message already sent to it (one mailbox, in order), so a
/// change whose answer timed out is seen once it is done.</para>
/// <para>The marks are this process's memory: a process that stopped after its register stored an account and before
/// the index listed it (a crash, an index write that failed and was not yet repaired) leaves nothing durable that says
/// so. So the first save of each account in a process lists it as well, whatever its version; the index answers that
/// at once, without a write, when the id is there. Cost: one index round trip per account per process, and its id kept
/// while the process runs (<see cref="_listed"/>); every later save of that account costs one set lookup.</para>
/// </remarks>
internal sealed class AccountListing(
    Func<string, CancellationToken, Task<long>> versionOf,
    Func<string, bool, CancellationToken, Task> index,
    ILoggingAdapter log)
{
    private readonly Lock _gate = new();
    // Only accounts with a change under way or an index that may be out of step: the others hold no memory here.
    private readonly Dictionary<string, Mark> _marks = new(StringComparer.Ordinal);
    // Accounts this process has seen listed by the index (written or confirmed): their later saves need no index write.
    private readonly HashSet<string> _listed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writing = new(1, 1);
    private long _sequence;

    /// <summary>A change to one account's register, numbered before its message leaves.</summary>
    internal readonly record struct Change(string AccountId, long Sequence, bool WasUnsettled);

    /// <summary>How many accounts have a change under way or wait for a repair.</summary>
    internal int Marked
    {
        get
        {
            lock (_gate) return _marks.Count;
        }
    }

    /// <summary>Numbers a change of <paramref name="accountId"/>'s register; <see cref="End"/> it whatever its outcome.</summary>
    public Change Begin(string accountId)
    {
        lock (_gate)
        {
            if (!_marks.TryGetValue(accountId, out var mark)) _marks[accountId] = mark = new Mark();
            var change = new Change(accountId, ++_sequence, mark.Settled != mark.Latest);
            mark.Latest = change.Sequence;
            mark.InFlight++;
            return change;
        }
    }

    /// <summary>The change's register call is over (answered, failed or timed out); an account in step is forgotten.</summary>
    public void End(Change change)
    {
        lock (_gate)
        {
            var mark = _marks[change.AccountId];
            mark.InFlight--;
            DropIfSettled(change.AccountId, mark);
        }
    }

    /// <summary>
    /// After the register took a save: a first version lists the account, and so does any version while the account was
    /// unsettled or not yet seen listed by this process (an earlier process may have stopped before listing it); a later
    /// version of an account listed in this process is listed already. A refused save changes nothing here: the
    /// register holds another writer's version, so the account stays marked until a repair reads it.
    /// </summary>
    public Task SavedAsync(Change change, long? version, CancellationToken cancellationToken)
    {
        if (version is null) return Task.CompletedTask;
        lock (_gate)
        {
            if (version != 1 && !change.WasUnsettled && _listed.Contains(change.AccountId))
            {
                var mark = _marks[change.AccountId];
                if (mark.Latest == change.Sequence) mark.Settled = change.Sequence;
                return Task.CompletedTask;
            }
        }

        return SettleAsync(change, listed: true, cancellationToken);
    }

    /// <summary>After the register erased the account's tokens: unlists it.</summary>
    public Task RemovedAsync(Change change, CancellationToken cancellationToken) => SettleAsync(change, listed: false, cancellationToken);

    /// <summary>
    /// Brings every unsettled account's index entry to what its register holds. Stops at the first register or index that
    /// does not answer in time (the others would wait as long); one that answers with a failure is left for later.
    /// </summary>
    public async Task RepairAsync(CancellationToken cancellationToken)
    {
        List<string> unsettled;
        lock (_gate) unsettled = _marks.Where(m => m.Value.Settled != m.Value.Latest).Select(m => m.Key).ToList();
        foreach (var accountId in unsettled)
        {
            try
            {
                await RepairAsync(accountId, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException or OperationCanceledException or RegisterUnavailableException)
            {
                // Not answered in time, or its register could not recover (the database is down): the next would wait as long.
                break;
            }
            catch (InvalidOperationException)
            {
                // Answered at once (a register it cannot read, a journal that failed): the next account may still settle.
            }
        }
    }

    private async Task RepairAsync(string accountId, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long latest;
            bool quiet;
            lock (_gate)
            {
                if (!_marks.TryGetValue(accountId, out var mark)) return;
                (latest, quiet) = (mark.Latest, mark.InFlight == 0);
            }

            bool listed;
            try
            {
                listed = await versionOf(accountId, cancellationToken).ConfigureAwait(false) > 0;
            }
            catch (StoredTokensUnreadableException)
            {
                // A record is there that only a sign-out clears: listed, so the app finds the account to sign it out
                // (and one unreadable account never fails the list of all the others).
                listed = true;
            }

            await index(accountId, listed, cancellationToken).ConfigureAwait(false);
            lock (_gate) Remember(accountId, listed);
            // With a change under way, its message may reach the register after the read above: it settles itself (or
            // stays marked), so this write settles nothing.
            if (!quiet) return;
            lock (_gate)
            {
                if (!_marks.TryGetValue(accountId, out var mark)) return;
                mark.Settled = Math.Max(mark.Settled, latest);
                DropIfSettled(accountId, mark);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task SettleAsync(Change change, bool listed, CancellationToken cancellationToken)
    {
        try
        {
            await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                lock (_gate)
                {
                    // A newer change of this account reached its register after this one: its own write (or a repair, if
                    // it fails) says what the index must hold; this older value written now could undo it.
                    if (_marks[change.AccountId].Latest != change.Sequence) return;
                }

                await index(change.AccountId, listed, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    Remember(change.AccountId, listed);
                    var mark = _marks[change.AccountId];
                    mark.Settled = Math.Max(mark.Settled, change.Sequence);
                }
            }
            finally
            {
                _writing.Release();
            }
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            // The register's change is done, so the caller must not see it as failed (a first login as not remembered, a
            // sign-out as failed although its tokens are erased); the account stays marked for a repair. The account id
            // is an identifier (provider and subject), no secret; the exception by its type only.
            log.Warning("Token store: the account list could not be updated for {0} ({1}); its tokens were {2}, and the list is retried",
                change.AccountId, e.GetType().Name, listed ? "stored" : "erased");
        }
    }

    /// <summary>What the index holds for the account now, as this process last wrote it; call under <see cref="_gate"/>.</summary>
    private void Remember(string accountId, bool listed)
    {
        if (listed) _listed.Add(accountId);
        else _listed.Remove(accountId);
    }

    private void DropIfSettled(string accountId, Mark mark)
    {
        if (mark.InFlight == 0 && mark.Settled == mark.Latest) _marks.Remove(accountId);
    }

    /// <summary>An account's latest change, the change up to which the index is known to be in step, and the calls under way.</summary>
    private sealed class Mark
    {
        public long Latest;
        public long Settled;
        public int InFlight;
    }
}
