using Akka.Actor;
using Akka.Event;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Persistence.Registers;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// The account list is an index changed after the register: when only the index fails, the store's change is still
/// done (a first login remembered, a sign-out's tokens erased), and the list catches up once the index answers again.
/// The registers are a double whose index can be made to fail.
/// </summary>
public sealed class AccountIndexFailureTests : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly OAuthAccount Alice = new("sandbox", "alice");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly ActorSystem _system = ActorSystem.Create("o8-index-failure");
    private readonly IndexSwitch _index = new();
    private readonly IActorRef _registers;
    private readonly PersistentTokenStore _store;

    public AccountIndexFailureTests()
    {
        var index = _index;
        _registers = _system.ActorOf(Props.Create(() => new RegistersDouble(index)));
        _store = new PersistentTokenStore(Task.FromResult(_registers), new EphemeralDataProtectionProvider(), Timeout,
            Logging.GetLogger(_system, typeof(AccountIndexFailureTests)));
    }

    [Fact]
    public async Task A_first_save_whose_listing_fails_is_still_saved_and_is_listed_once_the_index_answers()
    {
        _index.Failing = true;

        Assert.Equal(1, await _store.SaveAsync(Alice, new TokenSet("access-1", "Bearer"), 0, Ct));

        Assert.Equal("access-1", (await _store.LoadAsync(Alice, Ct))!.Tokens.AccessToken);
        _index.Failing = false;
        Assert.Empty(await IndexedAsync());
        // The account's next save lists it (a later version alone would not).
        Assert.Equal(2, await _store.SaveAsync(Alice, new TokenSet("access-2", "Bearer"), 1, Ct));
        Assert.Equal([Alice.Id], await IndexedAsync());
        Assert.Equal([Alice], await _store.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task An_account_a_stopped_process_stored_but_never_listed_is_listed_by_its_next_save_in_the_next_process()
    {
        _index.Failing = true;
        Assert.Equal(1, await _store.SaveAsync(Alice, new TokenSet("access-1", "Bearer"), 0, Ct));
        _index.Failing = false;
        // The process stops before its repair: the next one (a new store on the same registers) has no memory of the gap.
        var next = new PersistentTokenStore(Task.FromResult(_registers), new EphemeralDataProtectionProvider(), Timeout,
            Logging.GetLogger(_system, typeof(AccountIndexFailureTests)));

        Assert.Equal(2, await next.SaveAsync(Alice, new TokenSet("access-2", "Bearer"), 1, Ct));

        Assert.Equal([Alice], await next.ListAsync(cancellationToken: Ct));
        Assert.Equal(0, next.ListingsMarked);
    }

    [Fact]
    public async Task A_listing_that_failed_is_retried_before_the_store_lists()
    {
        _index.Failing = true;
        await _store.SaveAsync(Alice, new TokenSet("access", "Bearer"), 0, Ct);
        _index.Failing = false;

        Assert.Equal([Alice], await _store.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_removal_whose_unlisting_fails_completes_and_the_account_leaves_the_list_once_the_index_answers()
    {
        await _store.SaveAsync(Alice, new TokenSet("access", "Bearer"), 0, Ct);
        Assert.Equal([Alice.Id], await IndexedAsync());
        _index.Failing = true;

        // No exception: the tokens are erased, so the sign-out is done (and no removal retry starts).
        await _store.RemoveAsync(Alice, Ct);

        Assert.Null(await _store.LoadAsync(Alice, Ct));
        _index.Failing = false;
        Assert.Empty(await _store.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task While_the_index_fails_the_listing_itself_still_fails()
    {
        await _store.SaveAsync(Alice, new TokenSet("access", "Bearer"), 0, Ct);
        _index.Failing = true;

        // The list is what the index answers: a failing index is not reported as an empty list.
        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_listing_that_failed_is_not_replayed_over_a_sign_out_made_since()
    {
        _index.Failing = true;
        await _store.SaveAsync(Alice, new TokenSet("access", "Bearer"), 0, Ct);
        _index.Failing = false;

        await _store.RemoveAsync(Alice, Ct);

        // The failed listing is older than the sign-out, whose unlisting succeeded: it must not list her again.
        Assert.Empty(await _store.ListAsync(cancellationToken: Ct));
        Assert.Empty(await IndexedAsync());
        Assert.Equal(0, _store.ListingsMarked);
    }

    [Fact]
    public async Task An_unlisting_that_failed_is_not_replayed_over_a_sign_in_made_since()
    {
        await _store.SaveAsync(Alice, new TokenSet("access-1", "Bearer"), 0, Ct);
        _index.Failing = true;
        await _store.RemoveAsync(Alice, Ct);
        _index.Failing = false;

        Assert.Equal(1, await _store.SaveAsync(Alice, new TokenSet("access-2", "Bearer"), 0, Ct));

        // She has tokens again: the older unlisting must not take her off the list.
        Assert.Equal([Alice], await _store.ListAsync(cancellationToken: Ct));
        Assert.Equal([Alice.Id], await IndexedAsync());
        Assert.Equal(0, _store.ListingsMarked);
    }

    [Fact]
    public async Task A_first_save_whose_answer_never_came_but_which_the_register_made_is_listed()
    {
        // The register saves it all the same.
        await SaveUnansweredAsync(new TokenSet("access", "Bearer"), expectedVersion: 0);

        Assert.Equal([Alice], await _store.ListAsync(cancellationToken: Ct));
        Assert.Equal(0, _store.ListingsMarked);
    }

    [Fact]
    public async Task A_save_whose_answer_never_came_and_which_the_register_did_not_make_is_not_listed()
    {
        await _store.SaveAsync(Alice, new TokenSet("access-1", "Bearer"), 0, Ct);
        await _store.RemoveAsync(Alice, Ct);
        // Expects a version the register does not have: refused.
        await SaveUnansweredAsync(new TokenSet("access-2", "Bearer"), expectedVersion: 5);

        Assert.Empty(await _store.ListAsync(cancellationToken: Ct));
        Assert.Equal(0, _store.ListingsMarked);
    }

    /// <summary>A save the register takes (or refuses) but whose answer never reaches the caller, who gives up (as at the Ask timeout).</summary>
    private async Task SaveUnansweredAsync(TokenSet tokens, long expectedVersion)
    {
        _index.SilentSaves = true;
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var saving = _store.SaveAsync(Alice, tokens, expectedVersion, caller.Token);
        await _index.SaveReceived.Task.WaitAsync(Ct);
        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => saving);
        _index.SilentSaves = false;
    }

    private async Task<IReadOnlyList<string>> IndexedAsync() =>
        (await _registers.Ask<AccountIds>(new ListAccountIds(), Timeout, Ct)).Ids;

    public async ValueTask DisposeAsync() => await _system.Terminate();

    private sealed class IndexSwitch
    {
        private volatile bool _failing;
        private volatile bool _silentSaves;

        /// <summary>While on, a save is made (or refused) but never answered, as when its answer comes after the Ask timeout.</summary>
        public bool SilentSaves
        {
            get => _silentSaves;
            set => _silentSaves = value;
        }

        /// <summary>Completed when a silent save has reached the registers.</summary>
        public TaskCompletionSource SaveReceived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }
    }

    /// <summary>Registers as the store sees them: versions per account, and an index that fails while its switch is on.</summary>
    private sealed class RegistersDouble : ReceiveActor
    {
        public RegistersDouble(IndexSwitch index)
        {
            var registers = new Dictionary<string, (long Version, byte[]? Payload)>(StringComparer.Ordinal);
            var listed = new SortedSet<string>(StringComparer.Ordinal);
            Receive<LoadTokens>(m =>
            {
                var (version, payload) = registers.GetValueOrDefault(m.EntityId);
                Sender.Tell(new TokensLoaded(payload, version));
            });
            Receive<SaveTokens>(m =>
            {
                var current = registers.GetValueOrDefault(m.EntityId).Version;
                long? saved = current == m.ExpectedVersion ? current + 1 : null;
                if (saved is { } version) registers[m.EntityId] = (version, m.Payload);
                if (index.SilentSaves) index.SaveReceived.TrySetResult();
                else Sender.Tell(new TokensSaved(saved));
            });
            Receive<EraseTokens>(m =>
            {
                registers.Remove(m.EntityId);
                Sender.Tell(new TokensErased());
            });
            Receive<IndexAccount>(m =>
            {
                if (index.Failing)
                {
                    // What the index answers when its journal fails.
                    Sender.Tell(new Status.Failure(new InvalidOperationException("The token journal failed: TestException.")));
                    return;
                }

                if (m.Listed) listed.Add(m.AccountId);
                else listed.Remove(m.AccountId);
                Sender.Tell(new AccountIndexed());
            });
            Receive<ListAccountIds>(_ =>
            {
                if (index.Failing) Sender.Tell(new Status.Failure(new InvalidOperationException("The token journal failed: TestException.")));
                else Sender.Tell(new AccountIds(listed.ToList()));
            });
        }
    }
}
