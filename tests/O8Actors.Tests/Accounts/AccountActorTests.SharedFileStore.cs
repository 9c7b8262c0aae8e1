using Akka.Actor;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// Two processes over one token folder: one refresh between them, and a sign-out that revokes the tokens the other one
/// rotated, not the spent ones.
/// </summary>
public sealed partial class AccountActorTests
{
    /// <summary>
    /// Two "processes" over one folder (two file stores, each with its own accounts supervisor), Alice signed in and her
    /// access token expired, refreshes held: runs <paramref name="test"/> with the folder deleted afterwards.
    /// </summary>
    private async Task TwoProcessesOnOneFolderAsync(Func<RotatingStrategy, IActorRef, IActorRef, string, Task> test)
    {
        var folder = Directory.CreateTempSubdirectory("o8-tokens-").FullName;
        try
        {
            var strategy = NewStrategy();
            var one = await Accounts(strategy, new FileTokenStore(folder), name: "accounts-one");
            var two = await Accounts(strategy, new FileTokenStore(folder), name: "accounts-two");
            await Remember(one, Alice, strategy.Issue("alice"));
            Assert.Equal("at-1", (await Get(two, Alice)).Token);
            Clock.Advance(TimeSpan.FromHours(1));
            strategy.Hold();
            await test(strategy, one, two, folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public Task Two_processes_sharing_a_file_store_refresh_once_and_never_lose_a_rotation() =>
        TwoProcessesOnOneFolderAsync(async (strategy, one, two, folder) =>
        {
            Task<AccessToken>[] callers = [];
            // Both processes begin a renewal: one refreshes (held), the other waits for the folder's lock meanwhile.
            await EventFilter.Debug(contains: "renewing; taking the refresh lock").ExpectAsync(2, () =>
            {
                callers = Enumerable.Range(0, 50).SelectMany(_ => new[] { Get(one, Alice), Get(two, Alice) }).ToArray();
                return Task.CompletedTask;
            }, Wait);
            AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);
            strategy.Release();
            var tokens = await Task.WhenAll(callers);

            Assert.Equal(1, strategy.Refreshes);
            Assert.Equal(0, strategy.Replays);
            Assert.All(tokens, t => Assert.Equal("at-2", t.Token));
            var stored = await new FileTokenStore(folder).LoadAsync(Alice);
            Assert.Equal(("rt-2", 2L), (stored!.Tokens.RefreshToken, stored.Version));
            Assert.True(strategy.IsValid("rt-2"));
        });

    [Fact]
    public Task A_sign_out_while_another_process_rotates_the_refresh_token_revokes_the_rotated_tokens_not_the_spent_ones() =>
        TwoProcessesOnOneFolderAsync(async (strategy, one, two, folder) =>
        {
            // The first process refreshes Alice's tokens (it holds the lock, rt-1 is being spent) while the second signs her out.
            var refreshed = Get(one, Alice);
            AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);
            Task<SignOutResult> signOut = null!;
            await EventFilter.Debug(contains: "signing out; taking the refresh lock").ExpectAsync(1, () =>
            {
                signOut = SignOutAlice(two);
                return Task.CompletedTask;
            }, Wait);
            strategy.Release();

            Assert.Equal("at-2", (await refreshed).Token);
            Assert.Equal(RevocationOutcome.Revoked, (await signOut).Revocation);
            // The live tokens were revoked: the rotated refresh token can no longer be spent by anyone.
            Assert.Equal(["rt-2", "at-2"], strategy.Revoked.Select(r => r.Token));
            Assert.False(strategy.IsValid("rt-2"));
            Assert.Null(await new FileTokenStore(folder).LoadAsync(Alice));
        });
}
