namespace O8Actors.Tests.Accounts;

/// <summary>
/// The in-process refresh locks (<see cref="InMemoryTokenStore"/>, the database store): one holder per account at a time,
/// and no memory kept for an account once nobody holds or waits for its lock.
/// </summary>
public sealed class AccountLocksTests
{
    private static readonly OAuthAccount Alice = new("p", "alice");

    [Fact]
    public async Task An_accounts_lock_has_one_holder_and_the_next_gets_it_when_it_is_released()
    {
        var store = new InMemoryTokenStore();
        var first = await store.LockAsync(Alice);
        var second = store.LockAsync(Alice);
        var other = await store.LockAsync(new OAuthAccount("p", "bob")); // another account is not held up

        Assert.False(second.IsCompleted);
        await first.DisposeAsync();
        await (await second.WaitAsync(TimeSpan.FromSeconds(10))).DisposeAsync();
        await other.DisposeAsync();
    }

    [Fact]
    public async Task Thousands_of_accounts_locked_once_each_leave_nothing_behind()
    {
        var store = new InMemoryTokenStore();

        for (var i = 0; i < 5_000; i++)
        {
            var held = await store.LockAsync(new OAuthAccount("p", $"user-{i}"));
            await held.DisposeAsync();
            await held.DisposeAsync(); // released once, however often it is disposed
        }

        Assert.Equal(0, store.LocksInUse);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_leaves_nothing_behind_and_does_not_take_the_lock()
    {
        var store = new InMemoryTokenStore();
        var held = await store.LockAsync(Alice);
        using var giveUp = new CancellationTokenSource();
        var waiting = store.LockAsync(Alice, giveUp.Token);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(1, store.LocksInUse);
        await held.DisposeAsync();

        Assert.Equal(0, store.LocksInUse);
        await (await store.LockAsync(Alice).WaitAsync(TimeSpan.FromSeconds(10))).DisposeAsync();
    }
}
