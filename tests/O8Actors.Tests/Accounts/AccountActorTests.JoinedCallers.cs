using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A caller that joins an interactive login started for another caller (one login per account) waits for it no longer
/// than its own timeout and one token exchange; the login goes on for the caller it was started for.
/// </summary>
public sealed partial class AccountActorTests
{
    private static AccessTokenOptions InteractiveWithin(TimeSpan timeout) =>
        AccessTokenOptions.Interactive with { Login = AuthorizationRequest.Default with { Timeout = timeout } };

    private static readonly TimeSpan ExchangeTime = ExchangeTimeouts.LoginDeadline(AccountTestSupport.Login.ExchangeTimeout);

    [Fact]
    public async Task A_caller_that_joins_a_longer_login_times_out_by_its_own_timeout_and_the_login_goes_on_for_its_starter()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var starter = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(10)));
        var start = flows.ExpectMsg<StartFlow>(Wait);
        Assert.Equal(TimeSpan.FromMinutes(10), start.Request.Timeout); // the login is the starter's
        var joiner = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(1)));
        await AccountHasTakenAsync(accounts);

        // Its own timeout passed, the exchange's time not yet: a browser back at the last moment still serves it.
        Clock.Advance(TimeSpan.FromMinutes(1));
        await AccountHasTakenAsync(accounts);
        Assert.False(joiner.IsCompleted);

        Clock.Advance(ExchangeTime);
        var error = await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => joiner.WaitAsync(Wait));
        Assert.Equal(TimeSpan.FromMinutes(1), error.Timeout);
        Assert.Contains("joined", error.Message, StringComparison.Ordinal);

        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // not cancelled: its starter still waits
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));
        Assert.Equal("at-2", (await starter.WaitAsync(Wait)).Token);
    }

    [Fact]
    public async Task A_login_whose_starter_cancelled_is_cancelled_once_its_joined_callers_own_timeouts_have_passed()
    {
        var (_, flows, accounts) = await RefreshRefusedAsync();
        using var cancel = new CancellationTokenSource();
        var starter = accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Interactive) { CallerCancellation = cancel.Token }, Wait,
            cancel.Token);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var joiner = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(1)));
        await AccountHasTakenAsync(accounts);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starter);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // the joined caller still waits for it

        Clock.Advance(TimeSpan.FromMinutes(1) + ExchangeTime);

        await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => joiner.WaitAsync(Wait));
        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId); // nobody waits: no browser stays open for nobody
    }
}
