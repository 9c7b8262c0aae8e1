using Akka.Actor;
using Akka.TestKit;
using O8Actors.Accounts;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Tests.Support;

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
        Assert.Contains("started for another call", error.Message, StringComparison.Ordinal);

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

    [Fact]
    public async Task A_caller_without_a_timeout_of_its_own_that_joined_a_longer_login_is_answered_before_its_ask_ends_and_no_longer_keeps_the_login()
    {
        var (_, flows, accounts) = await RefreshRefusedAsync();
        using var cancel = new CancellationTokenSource();
        var starter = accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, InteractiveWithin(TimeSpan.FromHours(1))) { CallerCancellation = cancel.Token },
            Wait, cancel.Token);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var joiner = Get(accounts, Alice, AccessTokenOptions.Interactive);
        await AccountHasTakenAsync(accounts);

        // The longest a login may take and an exchange: sooner than its ask's backstop in LoginClient.
        var settings = AccountTestSupport.Settings();
        Assert.True(settings.JoinedLoginWait(null) < settings.CallerWait(true, null));
        Clock.Advance(settings.JoinedLoginWait(null));
        var error = await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => joiner.WaitAsync(Wait));
        Assert.Contains("the longest a login may take", error.Message, StringComparison.Ordinal);

        // Its starter goes too: nobody waits, so the login is cancelled (the joiner counted as waiting before).
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starter);
        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
    }

    /// <summary>
    /// Alice's account as a cluster entity: a starter's login (ten minutes) runs, a caller asking for <c>mail</c> within
    /// <paramref name="joinerTimeout"/> joins it, and the account moves while the user is at the provider; should the
    /// starter cancel (<paramref name="starterCancels"/>), it does so before the move, and the login goes on for the joiner.
    /// </summary>
    private async Task<(RotatingStrategy Strategy, IActorRef Next, TestProbe Flows, TestProbe NextFlows, Task<AccessToken> Starter, StartFlow Start, Task<AccessToken> Joiner)>
        JoinedThenMovedAsync(TimeSpan joinerTimeout, bool starterCancels = false)
    {
        var (strategy, _, entity, next, flows, nextFlows) = await EntityWhoseRefreshIsRefusedAsync();
        // Only a starter that cancels gets a token (disposed once it has cancelled): the others' requests carry none.
        using var cancel = starterCancels ? new CancellationTokenSource() : null;
        var token = cancel?.Token ?? CancellationToken.None;
        var starter = entity.Ask<AccessToken>(new GetAccessToken(Alice, null, InteractiveWithin(TimeSpan.FromMinutes(10))) { CallerCancellation = token },
            Wait, token);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var account = flows.LastSender;
        var joiner = Get(entity, Alice, InteractiveWithin(joinerTimeout), ["mail"]);
        await account.Ask<ActorIdentity>(new Identify(1), Wait); // the joiner has joined
        if (cancel is not null)
        {
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starter);
            await account.Ask<ActorIdentity>(new Identify(2), Wait); // the account has heard it
        }

        Watch(account);
        entity.Tell(AccountHandOff.Instance);
        ExpectTerminated(account, Wait);
        return (strategy, next, flows, nextFlows, starter, start, joiner);
    }

    [Fact]
    public async Task A_joined_caller_whose_own_timeout_passes_after_the_account_moved_is_told_so_and_opens_no_login_on_the_next_node()
    {
        var (strategy, next, flows, nextFlows, starter, start, joiner) = await JoinedThenMovedAsync(TimeSpan.FromMinutes(1));

        // The joiner's own wait passes while the user is still at the provider: it is told then, as before the move.
        Clock.Advance(TimeSpan.FromMinutes(1) + ExchangeTime);
        var error = await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => joiner.WaitAsync(Wait));
        Assert.Equal(TimeSpan.FromMinutes(1), error.Timeout);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // the login is not cancelled: its starter still waits

        // The user approves; the tokens do not cover the joiner's scopes and bring no refresh token.
        Clock.Advance(TimeSpan.FromMinutes(3));
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { RefreshToken = null }));
        Assert.Equal("at-2", (await starter.WaitAsync(Wait)).Token);
        Assert.Equal("at-2", (await Get(next, Alice)).Token); // the login's tokens are the account's on its next node
        nextFlows.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // and no browser opens there for a caller that has gone
    }

    [Fact]
    public async Task A_login_that_outlived_its_account_is_cancelled_once_the_own_timeouts_of_all_its_callers_have_passed()
    {
        var (_, _, flows, _, _, start, joiner) = await JoinedThenMovedAsync(TimeSpan.FromMinutes(1), starterCancels: true);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // the joiner still waits for it

        Clock.Advance(TimeSpan.FromMinutes(1) + ExchangeTime);

        await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => joiner.WaitAsync(Wait));
        // Nobody waits: the login is cancelled where it runs, as the account's actor cancels one nobody waits for.
        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
    }

    [Fact]
    public async Task A_first_caller_whose_renewal_took_longer_than_its_timeout_still_gets_its_login()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        strategy.Hold();
        var caller = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromSeconds(5)));
        AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);
        Clock.Advance(TimeSpan.FromSeconds(5) + ExchangeTime + TimeSpan.FromSeconds(1)); // the refresh is slow, within the renewal's backstop

        strategy.Release(); // invalid_grant

        var start = flows.ExpectMsg<StartFlow>(Wait); // the login is its own: its deadline is the login's
        Assert.Equal(TimeSpan.FromSeconds(5), start.Request.Timeout);
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));
        Assert.Equal("at-2", (await caller.WaitAsync(Wait)).Token);
    }

    [Fact]
    public async Task A_caller_queued_behind_the_first_during_the_renewal_waits_for_the_login_from_its_start_and_no_longer()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        strategy.Hold();
        var first = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(1)));
        AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);
        var second = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(1)));
        await AccountHasTakenAsync(accounts);
        Clock.Advance(TimeSpan.FromSeconds(8));
        strategy.Release(); // invalid_grant: the login starts 8 s after both asked

        var start = flows.ExpectMsg<StartFlow>(Wait);
        Clock.Advance(TimeSpan.FromMinutes(1) + ExchangeTime - TimeSpan.FromSeconds(1)); // past a minute and an exchange from its call
        await AccountHasTakenAsync(accounts);
        Assert.False(second.IsCompleted); // not from its call: from the login's start

        Clock.Advance(TimeSpan.FromSeconds(2)); // a minute and an exchange from the login's start
        await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => second.WaitAsync(Wait));
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice")));
        Assert.Equal("at-2", (await first.WaitAsync(Wait)).Token);
    }

    [Fact]
    public async Task A_caller_that_waited_through_a_login_for_other_scopes_is_told_at_its_own_deadline_during_the_next_and_others_keep_waiting_for_it()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var starter = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(10)));
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var early = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(5)), ["mail"]);
        await AccountHasTakenAsync(accounts);
        Clock.Advance(TimeSpan.FromMinutes(3));
        var late = Get(accounts, Alice, InteractiveWithin(TimeSpan.FromMinutes(5)), ["mail"]);
        await AccountHasTakenAsync(accounts);

        // A minute on, the starter's login ends with tokens that lack their scope and cannot be refreshed.
        Clock.Advance(TimeSpan.FromMinutes(1));
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { RefreshToken = null }));
        Assert.Equal("at-2", (await starter.WaitAsync(Wait)).Token);

        // The next login is for their scopes, with its first caller's own timeout: not cut to that caller's last minute,
        // which would time the other caller out with it.
        var second = flows.FishForMessage<StartFlow>(_ => true, Wait);
        Assert.Equal(["openid", "mail"], second.Request.Scopes!);
        Assert.Equal(TimeSpan.FromMinutes(5), second.Request.Timeout);

        // The early caller's five minutes (and an exchange) pass: it is told, and the login goes on for the late one.
        Clock.Advance(TimeSpan.FromMinutes(1) + ExchangeTime);
        await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => early.WaitAsync(Wait));
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // not cancelled
        Assert.False(late.IsCompleted);
        second.Completion!.SetResult(new LoginSucceeded(second.LoginId, strategy.Issue("alice") with { Scope = "openid mail" }));
        Assert.Equal("at-3", (await late.WaitAsync(Wait)).Token);
    }

    [Fact]
    public async Task A_joined_caller_sent_on_to_the_accounts_next_node_keeps_its_deadline_through_the_login_started_there_for_it()
    {
        var (strategy, _, _, nextFlows, starter, start, joiner) = await JoinedThenMovedAsync(TimeSpan.FromMinutes(5));

        Clock.Advance(TimeSpan.FromMinutes(4));
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { RefreshToken = null }));
        Assert.Equal("at-2", (await starter.WaitAsync(Wait)).Token);

        // The next node starts a login for the joiner's scopes; what was left of its wait came with it.
        var second = nextFlows.FishForMessage<StartFlow>(_ => true, Wait);
        Clock.Advance(TimeSpan.FromMinutes(1) + ExchangeTime);
        await Assert.ThrowsAsync<AuthorizationTimeoutException>(() => joiner.WaitAsync(Wait));
        Assert.Equal(second.LoginId, nextFlows.ExpectMsg<CancelFlow>(Wait).LoginId); // nobody waits for it any more
    }
}
