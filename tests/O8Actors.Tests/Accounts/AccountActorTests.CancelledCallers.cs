using Akka.Actor;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Runtime;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// An interactive token request whose caller cancelled while it waited opens no browser: the account's actor knows the
/// caller's token (local callers), drops such callers before it starts a login, and cancels a login it runs once every
/// caller it runs for has cancelled.
/// </summary>
public sealed partial class AccountActorTests
{
    private static Task<AccessToken> GetCancellable(IActorRef accounts, CancellationToken cancellationToken, IReadOnlyList<string>? scopes = null) =>
        accounts.Ask<AccessToken>(new GetAccessToken(Alice, scopes, AccessTokenOptions.Interactive) { CallerCancellation = cancellationToken }, Wait,
            cancellationToken);

    [Fact]
    public async Task An_interactive_request_cancelled_while_its_refresh_runs_starts_no_login()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        var refs = new O8ActorRefs(flows.Ref, flows.Ref, flows.Ref, flows.Ref, accounts, new AccountCache());
        var client = new LoginClient(Sys, refs, O8Options.FromConfig());
        strategy.Hold();
        using var cts = new CancellationTokenSource();
        var gone = client.GetAccessTokenAsync(Alice, ["gone"], AccessTokenOptions.Interactive, cts.Token);
        AwaitCondition(() => strategy.Refreshes == 1, Wait, Polling.Interval);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone.WaitAsync(Wait));
        var next = Get(accounts, Alice, AccessTokenOptions.Interactive, scopes: ["mail"]); // waits in the same renewal

        strategy.Release(); // invalid_grant

        // The one login is the remaining caller's (before: the cancelled caller's, its scopes, for nobody).
        var start = flows.FishForMessage<StartFlow>(_ => true, Wait);
        Assert.Equal(["openid", "mail"], start.Request.Scopes!); // openid: Alice is known by her ID token's subject
        start.Completion!.SetResult(new LoginSucceeded(start.LoginId, strategy.Issue("alice") with { Scope = "mail" }));
        Assert.Equal("at-2", (await next).Token);
    }

    [Fact]
    public async Task A_login_whose_callers_have_all_cancelled_is_cancelled_and_a_caller_after_them_gets_a_login_of_its_own()
    {
        var (strategy, flows, accounts) = await RefreshRefusedAsync();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var firstCall = GetCancellable(accounts, first.Token);
        var start = flows.ExpectMsg<StartFlow>(Wait);
        var secondCall = GetCancellable(accounts, second.Token);
        await AccountHasTakenAsync(accounts);

        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstCall);
        flows.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the second caller still waits for it
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => secondCall);

        Assert.Equal(start.LoginId, flows.ExpectMsg<CancelFlow>(Wait).LoginId);
        // A caller that comes before the cancelled login has ended is not failed with it: it gets a login of its own.
        var later = Get(accounts, Alice, AccessTokenOptions.Interactive);
        await AccountHasTakenAsync(accounts);
        start.Completion!.SetResult(new LoginCancelled(start.LoginId));
        var again = flows.ExpectMsg<StartFlow>(Wait);
        Assert.NotEqual(start.LoginId, again.LoginId);
        again.Completion!.SetResult(new LoginSucceeded(again.LoginId, strategy.Issue("alice")));
        Assert.Equal("at-2", (await later).Token);
    }
}
