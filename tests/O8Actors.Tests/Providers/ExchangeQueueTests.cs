using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// Bounded work (issue 11) in a provider's queue: an exchange waiting behind a slow token endpoint is dropped unsent once
/// its login's deadline has passed (a code redeemed after its login failed only throws the tokens away), and a full
/// queue (<c>o8.providers.max-queued-exchanges</c>) refuses at once. The deadline is in scheduler time, so virtual.
/// </summary>
public sealed class ExchangeQueueTests() : TestKit(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""")
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan ExchangeTimeout = TimeSpan.FromSeconds(30);
    private static readonly Uri RedirectUri = new("https://localhost:41539/");

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private ExchangeCode Exchange(string code, TimeSpan? deadlineIn = null) => new("p", $"login-{code}", code, "verifier", RedirectUri,
        Deadline: Sys.Scheduler.Now + (deadlineIn ?? ExchangeTimeouts.LoginDeadline(ExchangeTimeout)));

    private IActorRef Provider(ScriptedStrategy strategy, int maxConcurrent, int maxQueued, TimeSpan? exchangeTimeout = null) =>
        Sys.ActorOf(ProviderActor.Props(strategy, () => new HttpClient(), maxConcurrent, exchangeTimeout ?? ExchangeTimeout, maxQueued));

    /// <summary>
    /// Sends <paramref name="code"/>'s exchange from a login (a new probe unless <paramref name="by"/>) and waits until
    /// the strategy has started it: with one slot, it then holds the slot until released.
    /// </summary>
    private TestProbe Sent(IActorRef provider, ScriptedStrategy strategy, string code, TimeSpan? deadlineIn = null, TestProbe? by = null)
    {
        var login = by ?? CreateTestProbe();
        login.Send(provider, Exchange(code, deadlineIn));
        AwaitAssert(() => Assert.Contains(code, strategy.Started), Wait);
        return login;
    }

    [Fact]
    public void A_queued_exchange_whose_login_deadline_passed_is_never_sent_to_the_token_endpoint()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        var late = CreateTestProbe();
        var onTime = CreateTestProbe();

        // The slow token endpoint holds the only slot; the legitimate user's exchange queues behind it.
        var slow = Sent(provider, strategy, "slow");
        late.Send(provider, Exchange("late", deadlineIn: TimeSpan.FromSeconds(5)));
        onTime.Send(provider, Exchange("ontime", deadlineIn: TimeSpan.FromSeconds(60)));
        late.ExpectNoMsg(Quiet);

        // Its login gives up (5 s of virtual time), then the slow request finally answers.
        Scheduler.Advance(TimeSpan.FromSeconds(6));
        strategy.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);

        var dropped = late.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal("login-late", dropped.LoginId);
        Assert.Equal(LoginFailure.ExchangeTimeout, dropped.Failure);
        Assert.Contains("not sent", dropped.Reason);
        // The next one still in time gets the slot; the expired code never reached the token endpoint.
        AwaitAssert(() => Assert.Equal(["slow", "ontime"], strategy.Started), Wait);
        strategy.Release("ontime");
        onTime.ExpectMsg<CodeExchanged>(Wait);
        Assert.DoesNotContain("late", strategy.Started);
    }

    [Fact]
    public void A_queued_device_code_request_whose_login_deadline_passed_is_never_sent()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        var late = CreateTestProbe();

        // A device login asks for its code behind a slow exchange; its deadline passes while it waits.
        var slow = Sent(provider, strategy, "slow");
        late.Send(provider, new RequestDeviceCode("p", "login-late", ["late"], new Dictionary<string, string>(),
            Deadline: Sys.Scheduler.Now + TimeSpan.FromSeconds(5)));
        Scheduler.Advance(TimeSpan.FromSeconds(6));
        strategy.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);

        // Dropped, answered, never asked of the provider: a code nobody would show, and a slot taken from live logins.
        var dropped = late.ExpectMsg<DeviceCodeRefused>(Wait);
        Assert.Equal(LoginFailure.ExchangeTimeout, dropped.Failure.Failure);
        Assert.True(dropped.LoginDeadlinePassed); // the login times out as its own deadline would have ended it
        Assert.DoesNotContain("device:late", strategy.Started);
    }

    [Fact]
    public void A_queued_device_code_request_withdrawn_by_its_login_is_never_sent_and_frees_its_place()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 1);
        var login = CreateTestProbe();

        var slow = Sent(provider, strategy, "slow");
        login.Send(provider, DeviceCodeRequest("cancelled"));
        // The login is cancelled long before its deadline: it takes its request back.
        login.Send(provider, new WithdrawExchange("p", "login-cancelled"));
        Assert.Contains("withdrawn", login.ExpectMsg<DeviceCodeRefused>(Wait).Failure.Reason);

        AssertTheQueuesPlaceGoesToTheNextLogin(provider, strategy, slow, "cancelled");
    }

    [Fact]
    public void A_queued_device_code_request_whose_login_stopped_is_never_sent_and_frees_its_place()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 1);
        var login = CreateTestProbe();

        var slow = Sent(provider, strategy, "slow");
        login.Send(provider, DeviceCodeRequest("stopped"));
        // The login stops (its system's shutdown, a supervisor's stop) without withdrawing: the queue watches it.
        Watch(login.Ref);
        Sys.Stop(login.Ref);
        ExpectTerminated(login.Ref, Wait);

        AssertTheQueuesPlaceGoesToTheNextLogin(provider, strategy, slow, "stopped");
    }

    /// <summary>
    /// An Auto login asks for a device code (its browser launcher failed) and then, the user having opened the shown URL,
    /// exchanges the code: both wait in the queue. The device-code request leaving the queue unwatched the login while
    /// its exchange still waited, so a login that stopped then had its code sent all the same.
    /// </summary>
    [Fact]
    public async Task A_login_with_two_requests_queued_stays_watched_until_both_have_left_the_queue()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        var login = CreateTestProbe();
        var other = CreateTestProbe();
        // The provider resolved (a device-code request waits for discovery first, and would queue after the others).
        var earlier = CreateTestProbe();
        earlier.Send(provider, DeviceCodeRequest("earlier"));
        earlier.ExpectMsg<DeviceCodeIssued>(Wait);

        var slow = Sent(provider, strategy, "slow");
        login.Send(provider, DeviceCodeRequest("auto"));
        other.Send(provider, Exchange("mid"));
        login.Send(provider, Exchange("auto"));
        strategy.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);
        login.ExpectMsg<DeviceCodeIssued>(Wait); // the device-code request left the queue first
        AwaitAssert(() => Assert.Contains("mid", strategy.Started), Wait);

        // The login stops without withdrawing: its exchange, still queued, is dropped unsent.
        await EventFilter.Info(contains: "dropped unsent, its login has ended").ExpectOneAsync(Wait, async () =>
        {
            Watch(login.Ref);
            Sys.Stop(login.Ref);
            await ExpectTerminatedAsync(login.Ref, Wait);
        });
        strategy.Release("mid");
        other.ExpectMsg<CodeExchanged>(Wait);
        Sent(provider, strategy, "next"); // the slot's next request: the dropped code would have come before it
        Assert.DoesNotContain("auto", strategy.Started);
    }

    [Fact]
    public void A_device_code_request_refused_by_a_full_queue_says_what_was_not_sent()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 1);
        var login = CreateTestProbe();
        Sent(provider, strategy, "slow");
        CreateTestProbe().Send(provider, Exchange("queued"));

        login.Send(provider, DeviceCodeRequest("full"));

        var refused = login.ExpectMsg<DeviceCodeRefused>(Wait).Failure;
        Assert.Equal(LoginFailure.ExchangeQueueFull, refused.Failure);
        Assert.Contains("the device authorization request was not sent", refused.Reason);
        Assert.DoesNotContain("code was not sent", refused.Reason); // no code exists yet
    }

    /// <summary>Login <c>login-{name}</c>'s device-code request, its scope <paramref name="name"/> (the scripted strategy records it as <c>device:{name}</c>).</summary>
    private RequestDeviceCode DeviceCodeRequest(string name) =>
        new("p", $"login-{name}", [name], new Dictionary<string, string>(), Deadline: Sys.Scheduler.Now + TimeSpan.FromMinutes(2));

    /// <summary>The queue (of one) has room again for a live login's code, which gets the slot; the device code was never asked for.</summary>
    private void AssertTheQueuesPlaceGoesToTheNextLogin(IActorRef provider, ScriptedStrategy strategy, TestProbe slow, string deviceScope)
    {
        var next = CreateTestProbe();
        AwaitAssert(() =>
        {
            next.Send(provider, Exchange("next"));
            Assert.IsNotType<CodeExchangeFailed>(next.ReceiveOne(TimeSpan.FromMilliseconds(100)));
        }, Wait);
        strategy.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);
        AwaitAssert(() => Assert.Contains("next", strategy.Started), Wait);
        strategy.Release("next");
        next.ExpectMsg<CodeExchanged>(Wait);
        Assert.DoesNotContain($"device:{deviceScope}", strategy.Started);
    }

    [Fact]
    public void A_queued_code_is_not_sent_with_less_time_left_than_its_endpoint_takes_to_answer()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        var late = CreateTestProbe();

        // The login's deadline is the usual one: a token request and the reply's margin from the callback.
        var slow = Sent(provider, strategy, "slow");
        late.Send(provider, Exchange("late"));

        // The endpoint answers in 21 s, and the slot frees with 10 s of the login's 31 left: sent now, the code would be
        // spent on a request that most likely times out. It stays unsent and the login hears so while it still waits.
        Scheduler.Advance(TimeSpan.FromSeconds(21));
        strategy.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);
        var dropped = late.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(("login-late", LoginFailure.ExchangeTimeout), (dropped.LoginId, dropped.Failure));
        Assert.Contains("not sent", dropped.Reason);
        Assert.Equal(["slow"], strategy.Started);
    }

    [Fact]
    public void A_queued_code_with_little_time_left_is_sent_when_its_endpoint_answers_fast_and_its_login_gets_the_tokens()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        // The endpoint has answered at once (no virtual time passed).
        var first = Sent(provider, strategy, "first");
        strategy.Release("first");
        first.ExpectMsg<CodeExchanged>(Wait);
        // Its answer is ready before it is sent: the 2 s it gets are real time, and must not race the test's polling.
        strategy.Release("queued");
        var queued = QueueBehindARequestThatFailsWith2SecondsLeft(provider, strategy);

        // The slot freed with 3 s of the queued login's 31 left (2 s after the reply's margin): far less than half a token
        // request, far more than this endpoint takes. The code is sent, and its tokens reach the login in time.
        AwaitAssert(() => Assert.Equal(["first", "stuck", "queued"], strategy.Started), Wait);
        Assert.Equal("token-queued", queued.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
    }

    [Fact]
    public void Before_its_endpoint_has_answered_once_a_queued_code_needs_half_a_token_request_left_to_be_sent()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        // The only request so far never reached the endpoint, so nothing says how fast it answers: with 2 s left after
        // the reply's margin, less than half of the 30 s token request, the code is kept.
        var queued = QueueBehindARequestThatFailsWith2SecondsLeft(provider, strategy);
        var dropped = queued.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(("login-queued", LoginFailure.ExchangeTimeout), (dropped.LoginId, dropped.Failure));
        Assert.Equal(["stuck"], strategy.Started);
    }

    /// <summary>
    /// A token request that failed before its endpoint answered (the connection refused, as the built-in client reports
    /// it) took no answer's time. It used to count as an answer in no time, after which the endpoint looked fast and a
    /// code queued with 2 s left was sent, to a request that would most likely time out with the code spent.
    /// </summary>
    [Fact]
    public async Task A_token_request_that_failed_before_its_endpoint_answered_does_not_make_the_endpoint_look_fast()
    {
        var refused = await RefusedConnectionFailureAsync();
        Assert.Contains("failed before the token endpoint answered", refused.Message);
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        var first = Sent(provider, strategy, "refused");
        strategy.Fail("refused", refused);
        Assert.Equal(LoginFailure.TokenExchange, first.ExpectMsg<CodeExchangeFailed>(Wait).Failure);

        var queued = QueueBehindARequestThatFailsWith2SecondsLeft(provider, strategy);

        var dropped = queued.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(("login-queued", LoginFailure.ExchangeTimeout), (dropped.LoginId, dropped.Failure));
        Assert.Equal(["refused", "stuck"], strategy.Started);
    }

    /// <summary>The built-in client's failure for a token endpoint whose port nobody listens on.</summary>
    private static async Task<TokenExchangeException> RefusedConnectionFailureAsync()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var builtIn = new GenericOAuthStrategy(ProviderTestData.Options(new Uri($"http://127.0.0.1:{port}/token")));
        using var http = new HttpClient();
        return await Assert.ThrowsAsync<TokenExchangeException>(() => builtIn.ExchangeCodeAsync(ProviderTestData.Exchange(), http, CancellationToken.None));
    }

    /// <summary>
    /// Queues a login's code behind a request that hangs on a dead connection, which fails (no answer from the endpoint)
    /// once 28 s of the queued login's 31 have passed; returns the queued login.
    /// </summary>
    private TestProbe QueueBehindARequestThatFailsWith2SecondsLeft(IActorRef provider, ScriptedStrategy strategy)
    {
        var stuck = Sent(provider, strategy, "stuck");
        var queued = CreateTestProbe();
        queued.Send(provider, Exchange("queued"));
        Scheduler.Advance(TimeSpan.FromSeconds(28));
        strategy.Fail("stuck", new HttpRequestException("The connection was reset."));
        Assert.Equal(LoginFailure.TokenExchange, stuck.ExpectMsg<CodeExchangeFailed>(Wait).Failure);
        return queued;
    }

    [Fact]
    public void A_queued_exchange_sent_with_its_login_deadline_near_gets_only_the_time_left_so_its_answer_reaches_the_login()
    {
        // A 6 s exchange timeout, so the test waits out seconds, not half a minute.
        var exchangeTimeout = TimeSpan.FromSeconds(6);
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8, exchangeTimeout);
        var slow = Sent(provider, strategy, "slow", deadlineIn: ExchangeTimeouts.LoginDeadline(exchangeTimeout));
        var queued = CreateTestProbe();
        // Sent 2 s after it queued, this login's code has 3 s left before the reply margin: half a token request, the
        // most a queued code ever needs (the endpoint answered in 2 s).
        queued.Send(provider, Exchange("queued", deadlineIn: TimeSpan.FromSeconds(2 + 3 + 1)));
        Scheduler.Advance(TimeSpan.FromSeconds(2));
        strategy.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);
        AwaitAssert(() => Assert.Equal(["slow", "queued"], strategy.Started), Wait);

        // The endpoint does not answer: the request ends at what was left of the login's deadline (3 s, not the 6 s of
        // an exchange sent at once), before the login gives up.
        var failed = queued.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(LoginFailure.ExchangeTimeout, failed.Failure);
        Assert.Contains("within 3 seconds", failed.Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // a device login's poll, taken back the same way
    public void A_queued_exchange_its_login_withdraws_is_never_sent_and_one_already_sent_still_answers(bool devicePoll)
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        var sent = Sent(provider, strategy, "sent");
        var queued = CreateTestProbe();
        queued.Send(provider, devicePoll ? new PollDeviceToken("p", "login-queued", "device-code") : Exchange("queued"));

        // Both logins are cancelled: the queued code is taken back unsent; the sent one's answer is still due.
        queued.Send(provider, new WithdrawExchange("p", "login-queued"));
        sent.Send(provider, new WithdrawExchange("p", "login-sent"));
        var withdrawn = queued.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal("login-queued", withdrawn.LoginId);
        Assert.Contains("not sent", withdrawn.Reason);
        strategy.Release("sent");
        Assert.Equal("token-sent", sent.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
        Assert.Equal(["sent"], strategy.Started);
    }

    /// <summary>
    /// The token endpoint issues tokens that are then refused (with an ID token that fails validation, or unbound on a
    /// DPoP login): nobody may use them, but they are live at the provider, so they are revoked (RFC 7009), refresh
    /// token first; the login hears why through an exception that holds no token.
    /// </summary>
    [Theory]
    [InlineData("ID token")] // an ID token that failed its checks: the login hears IdTokenInvalid
    [InlineData("unbound")] // bearer tokens on a DPoP login: the login hears TokenExchange
    public void Tokens_issued_and_then_refused_are_revoked_and_the_failure_carries_none_of_them(string refusal)
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 4, maxQueued: 8);
        var login = Sent(provider, strategy, "code-1");

        var issued = new TokenSet("issued-access", "Bearer", RefreshToken: "issued-refresh");
        strategy.Fail("code-1", refusal == "ID token"
            ? new IdTokenValidationException("The ID token failed validation (audience).").Carrying(issued)
            : new TokenExchangeException("The authorization code exchange returned token_type 'Bearer', not DPoP.") { Issued = issued });

        var failed = login.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(refusal == "ID token" ? LoginFailure.IdTokenInvalid : LoginFailure.TokenExchange, failed.Failure);
        Assert.Null(failed.Cause switch
        {
            IdTokenValidationException v => v.Issued,
            TokenExchangeException t => t.Issued,
            var other => throw new Xunit.Sdk.XunitException($"Unexpected cause {other?.GetType().Name}"),
        });
        Assert.DoesNotContain("issued-", failed.Reason, StringComparison.Ordinal);
        AwaitAssert(() => Assert.Equal([("issued-refresh", "refresh_token"), ("issued-access", "access_token")],
            strategy.Revoked.Select(r => (r.Token, r.TokenTypeHint))), Wait);
        login.ExpectNoMsg(Quiet); // the revocation's answer goes to nobody
    }

    [Fact]
    public void A_logins_answer_is_marked_as_a_logins_and_a_refreshs_is_not()
    {
        // The mark decides whether an answer that finds its asker gone is revoked (a login's) or left alone (a refresh's).
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 4, maxQueued: 8);
        var login = Sent(provider, strategy, "code-1");
        strategy.Release("code-1");
        Assert.True(login.ExpectMsg<CodeExchanged>(Wait).ForLogin);

        var account = CreateTestProbe();
        strategy.Release("rt-1");
        account.Send(provider, new RefreshTokens("p", "refresh-1", "rt-1", null));
        Assert.False(account.ExpectMsg<CodeExchanged>(Wait).ForLogin);
    }

    [Fact]
    public void Unclaimed_tokens_sent_back_by_the_dead_letters_watcher_are_revoked_refresh_token_first()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 4, maxQueued: 8);

        provider.Tell(new RevokeUnclaimedTokens(new TokenSet("late-access", "Bearer", RefreshToken: "late-refresh")));

        AwaitAssert(() => Assert.Equal([("late-refresh", "refresh_token"), ("late-access", "access_token")],
            strategy.Revoked.Select(r => (r.Token, r.TokenTypeHint))), Wait);
    }

    [Fact]
    public void A_queued_refresh_whose_caller_deadline_passed_is_never_sent_to_the_token_endpoint()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        var account = CreateTestProbe();

        // An account's refresh queues behind a slow exchange; the account stops waiting (its renewal's deadline).
        var slow = Sent(provider, strategy, "slow");
        account.Send(provider, new RefreshTokens("p", "refresh-1", "rt-1", null, Deadline: Sys.Scheduler.Now + TimeSpan.FromSeconds(5)));
        account.ExpectNoMsg(Quiet);
        Scheduler.Advance(TimeSpan.FromSeconds(6));
        strategy.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);

        // Dropped unsent: the refresh token is not spent, so no rotated one is lost with the account's late answer.
        var dropped = account.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(("refresh-1", LoginFailure.ExchangeTimeout), (dropped.LoginId, dropped.Failure));
        Assert.Contains("not sent", dropped.Reason);
        Assert.DoesNotContain("rt-1", dropped.Reason);
        account.ExpectNoMsg(Quiet);
        Assert.DoesNotContain("rt-1", strategy.Started);
    }

    [Fact]
    public void A_full_queue_refuses_the_next_exchange_at_once_naming_the_limit()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 2);
        var callers = Enumerable.Range(0, 4).Select(_ => CreateTestProbe()).ToArray();

        Sent(provider, strategy, "c0", by: callers[0]);
        callers[1].Send(provider, Exchange("c1"));
        callers[2].Send(provider, Exchange("c2"));
        callers[3].Send(provider, Exchange("c3"));

        // No time passes: the refusal does not wait for a slot or a timeout.
        var refused = callers[3].ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal("login-c3", refused.LoginId);
        Assert.Equal(LoginFailure.ExchangeQueueFull, refused.Failure);
        Assert.Contains("o8.providers.max-queued-exchanges (2)", refused.Reason);
        callers[1].ExpectNoMsg(Quiet);

        // The queued ones are still served in order; the refused code was never sent.
        strategy.Release("c0");
        strategy.Release("c1");
        strategy.Release("c2");
        callers[1].ExpectMsg<CodeExchanged>(Wait);
        callers[2].ExpectMsg<CodeExchanged>(Wait);
        Assert.Equal(["c0", "c1", "c2"], strategy.Started);
    }

    [Fact]
    public void A_full_queue_first_makes_room_by_dropping_exchanges_whose_login_has_ended()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 1);
        var expired = CreateTestProbe();
        var fresh = CreateTestProbe();

        Sent(provider, strategy, "c0");
        expired.Send(provider, Exchange("old", deadlineIn: TimeSpan.FromSeconds(5)));
        Scheduler.Advance(TimeSpan.FromSeconds(6));
        fresh.Send(provider, Exchange("new"));

        Assert.Equal(LoginFailure.ExchangeTimeout, expired.ExpectMsg<CodeExchangeFailed>(Wait).Failure);
        fresh.ExpectNoMsg(Quiet);
        strategy.Release("c0");
        strategy.Release("new");
        fresh.ExpectMsg<CodeExchanged>(Wait);
        Assert.Equal(["c0", "new"], strategy.Started);
    }

    [Fact]
    public void A_full_queue_first_makes_room_by_dropping_refreshes_whose_caller_cancelled_and_never_sends_them()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 1);
        var account = CreateTestProbe();
        var fresh = CreateTestProbe();
        using var caller = new CancellationTokenSource();

        // The queue's one place is a refresh whose caller then gives up (no time passes: its deadline is far off).
        Sent(provider, strategy, "c0");
        account.Send(provider, new RefreshTokens("p", "refresh-1", "rt-1", null, Deadline: Sys.Scheduler.Now + TimeSpan.FromMinutes(5))
        {
            CallerCancellation = caller.Token,
        });
        caller.Cancel();
        fresh.Send(provider, Exchange("new"));

        // The login's code takes the place instead of being refused as "queue full"; the cancelled refresh is dropped
        // unanswered (its caller's wait is over) and its refresh token is never spent.
        fresh.ExpectNoMsg(Quiet);
        strategy.Release("c0");
        strategy.Release("new");
        fresh.ExpectMsg<CodeExchanged>(Wait);
        account.ExpectNoMsg(Quiet);
        Assert.Equal(["c0", "new"], strategy.Started);
    }

    [Fact]
    public async Task A_queued_exchange_whose_login_ended_before_its_deadline_is_never_sent()
    {
        var strategy = new ScriptedStrategy("p");
        var provider = Provider(strategy, maxConcurrent: 1, maxQueued: 8);
        var cancelledLogin = CreateTestProbe();
        var next = CreateTestProbe();

        var first = Sent(provider, strategy, "c0");
        cancelledLogin.Send(provider, Exchange("cancelled"));
        next.Send(provider, Exchange("next"));
        // The login is cancelled (its actor stops) long before its exchange deadline; no virtual time passes. The provider
        // hears of it through its watch, which races the first exchange's answer below: wait until it has taken the code
        // out of its queue (CI once released the first answer before the provider had heard, and the code was sent).
        await EventFilter.Info(contains: "dropped unsent, its login has ended").ExpectOneAsync(Wait, async () =>
        {
            Watch(cancelledLogin.Ref);
            Sys.Stop(cancelledLogin.Ref);
            await ExpectTerminatedAsync(cancelledLogin.Ref, Wait);
        });

        strategy.Release("c0");
        first.ExpectMsg<CodeExchanged>(Wait);
        AwaitAssert(() => Assert.Equal(["c0", "next"], strategy.Started), Wait);
        strategy.Release("next");
        next.ExpectMsg<CodeExchanged>(Wait);
        Assert.DoesNotContain("cancelled", strategy.Started);
    }
}
