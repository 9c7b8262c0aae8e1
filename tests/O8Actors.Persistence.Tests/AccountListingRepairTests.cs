using Akka.Actor;
using Akka.Event;
using O8Actors.Persistence.Registers;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// The listing's repair walks the accounts whose index entry may be out of step, asking each one's register. A register
/// that could not recover (the database is down) answers only after its recovery gave up, and every other register
/// would wait as long: the repair stops there, as at a timeout, instead of starting one recovery after another while
/// the list waits.
/// </summary>
public sealed class AccountListingRepairTests : IAsyncDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("o8-listing-repair");

    public async ValueTask DisposeAsync() => await _system.Terminate();

    [Fact]
    public async Task A_repair_stops_at_the_first_register_that_could_not_recover()
    {
        var asked = new List<string>();
        var listing = new AccountListing(
            versionOf: (id, _) =>
            {
                asked.Add(id);
                return Task.FromException<long>(UndeliveredRegisterMessages.NotAnswered(new LoadTokens(id)).ToException());
            },
            index: (_, _, _) => Task.CompletedTask,
            Logging.GetLogger(_system, typeof(AccountListingRepairTests)));
        // Three accounts whose saves failed (the database down): each is left unsettled.
        foreach (var id in new[] { "p/a", "p/b", "p/c" }) listing.End(listing.Begin(id));

        await listing.RepairAsync(TestContext.Current.CancellationToken);

        Assert.Single(asked);
        Assert.Equal(3, listing.Marked); // left for a later repair
    }

    [Fact]
    public async Task A_repair_goes_on_past_a_register_that_answers_with_a_failure_at_once()
    {
        var asked = new List<string>();
        var listing = new AccountListing(
            versionOf: (id, _) =>
            {
                asked.Add(id);
                return id == "p/a"
                    ? Task.FromException<long>(new RegisterFailed(Unreadable: false, "The token journal failed: DbException.").ToException())
                    : Task.FromResult(1L);
            },
            index: (_, _, _) => Task.CompletedTask,
            Logging.GetLogger(_system, typeof(AccountListingRepairTests)));
        foreach (var id in new[] { "p/a", "p/b", "p/c" }) listing.End(listing.Begin(id));

        await listing.RepairAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["p/a", "p/b", "p/c"], asked);
        Assert.Equal(1, listing.Marked);
    }
}
