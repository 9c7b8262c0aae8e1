using System.Collections;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// An account's actor that fails is stopped by its supervisor. The requests it held are answered from its PostStop; those
/// still in its mailbox (or forwarded to it before the supervisor heard of the stop) went to dead letters unanswered, and
/// their callers waited out their asks (85 s; over 30 minutes for an interactive token request), as did the caller of the
/// request the actor failed on.
/// </summary>
public sealed class StoppedAccountTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    // The callers' asks last minutes: an answer within this is "at once", not a deadline that passed.
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(5);
    private static readonly OAuthAccount Alice = new("p", "alice");

    /// <summary>Alice signed in with <paramref name="strategy"/>'s tokens: the accounts' supervisor and her account's actor (watched).</summary>
    private async Task<(IActorRef Accounts, IActorRef Account)> SignedInAsync(RotatingStrategy strategy)
    {
        var accounts = await this.AccountsAsync(strategy, new InMemoryTokenStore());
        await accounts.Ask<LoginRemembered>(new RememberLogin(Alice, strategy.Issue("alice")), Wait);
        var account = (await Sys.ActorSelection(accounts.Path / "*").Ask<ActorIdentity>(new Identify(1), Wait)).Subject!;
        Watch(account);
        return (accounts, account);
    }

    [Fact]
    public async Task Requests_left_in_the_mailbox_of_an_account_actor_that_fails_and_is_stopped_are_answered_at_once()
    {
        ListeningWatcher.Start(this);
        var strategy = new RotatingStrategy("p", () => Sys.Scheduler.Now);
        var (accounts, account) = await SignedInAsync(strategy);

        // The actor fails on the first request (its scope list throws as it is read); the others, sent right behind it,
        // wait in its mailbox (suspended while it fails) and reach dead letters when the supervisor stops it.
        var failing = CreateTestProbe();
        failing.Send(account, new GetAccessToken(Alice, new ThrowingScopes(), AccessTokenOptions.Silent));
        var urlTo = new TaskCompletionSource<Uri?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = new (string Kind, object Request)[]
        {
            ("token", new GetAccessToken(Alice, null, AccessTokenOptions.Silent)),
            ("interactive token", new GetAccessToken(Alice, null, AccessTokenOptions.Interactive)),
            ("remember", new RememberLogin(Alice, strategy.Issue("alice"))),
            ("sign-out", new SignOut(Alice, SignOutOptions.Local) { EndSessionUrlTo = urlTo }),
        }.Select(r => (r.Kind, Caller: CreateTestProbe(), r.Request)).ToList();
        foreach (var (_, caller, request) in waiting) caller.Send(account, request);
        ExpectTerminated(account, Wait);

        // The request it failed on is answered too, not left to its caller's ask.
        foreach (var (kind, caller, _) in waiting.Prepend(("the failing request", failing, (object)null!)))
        {
            var error = Assert.IsType<AuthorizationFailedException>(caller.ExpectMsg<Status.Failure>(Answer, kind).Cause);
            Assert.Equal(LoginFailure.Internal, error.Failure);
            Assert.Contains("stopped before it could answer", error.Message, StringComparison.Ordinal);
        }
        // A server-mode sign-out's caller waiting for its end-session URL is told there is none.
        Assert.Null(await urlTo.Task.WaitAsync(Answer));

        // The account's next request gets a fresh actor, which reads the store again.
        Assert.False(string.IsNullOrEmpty((await accounts.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), Wait)).Token));
    }

    [Fact]
    public void The_request_an_account_actor_fails_on_after_taking_it_among_its_waiters_is_answered_once()
    {
        // An exchange timeout so long that a renewal's deadline lies past the calendar's end: the actor throws as it begins
        // the renewal, after it has taken the caller among its waiters (a stand-in for any fault at that point).
        var settings = AccountTestSupport.Settings() with { ExchangeTimeout = TimeSpan.FromDays(1_500_000) };
        var accounts = this.AccountsOver(new InMemoryTokenStore(), CreateTestProbe().Ref, settings: settings);
        var caller = CreateTestProbe();

        caller.Send(accounts, new GetAccessToken(Alice, null, AccessTokenOptions.Silent));

        Assert.Contains("stopped before it could answer", caller.ExpectMsg<Status.Failure>(Answer).Cause.Message, StringComparison.Ordinal);
        caller.ExpectNoMsg(TimeSpan.FromMilliseconds(500)); // not a second time
    }

    [Fact]
    public async Task A_server_mode_sign_out_waiting_behind_a_renewal_learns_there_is_no_end_session_url_when_the_actor_stops()
    {
        var strategy = new RotatingStrategy("p", () => Sys.Scheduler.Now) { Lifetime = TimeSpan.FromMinutes(-1) };
        var (_, account) = await SignedInAsync(strategy);
        // Its token has expired: a caller starts a refresh, which the provider holds; the sign-out waits behind it (stashed).
        strategy.Hold();
        var refreshing = account.Ask<AccessToken>(new GetAccessToken(Alice, null, AccessTokenOptions.Silent), Wait);
        await AwaitAssertAsync(() => Assert.Equal(1, strategy.Refreshes), Wait);
        var urlTo = new TaskCompletionSource<Uri?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var signingOut = CreateTestProbe();
        signingOut.Send(account, new SignOut(Alice, SignOutOptions.Local) { EndSessionUrlTo = urlTo });
        await account.Ask<ActorIdentity>(new Identify(2), Wait); // the sign-out is taken

        account.Tell(Kill.Instance);
        ExpectTerminated(account, Wait);

        Assert.Contains("stopped before it could answer", signingOut.ExpectMsg<Status.Failure>(Answer).Cause.Message, StringComparison.Ordinal);
        Assert.Null(await urlTo.Task.WaitAsync(Answer));
        await Assert.ThrowsAsync<AuthorizationFailedException>(() => refreshing);
        strategy.Release();
    }

    /// <summary>A scope list that throws as it is read: a request the account's actor fails on.</summary>
    private sealed class ThrowingScopes : IReadOnlyList<string>
    {
        public string this[int index] => throw new InvalidOperationException("unreadable scopes");

        public int Count => throw new InvalidOperationException("unreadable scopes");

        public IEnumerator<string> GetEnumerator() => throw new InvalidOperationException("unreadable scopes");

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
