using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Providers;

/// <summary>The provider actor and the registry in front of it: concurrency limit, discovery, re-registration, restart.</summary>
public sealed class ProviderActorTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan ExchangeTimeout = TimeSpan.FromSeconds(30);
    private static readonly Uri RedirectUri = new("https://localhost:41539/");

    private static ExchangeCode Exchange(string code, string provider = "p") => new(provider, $"login-{code}", code, "verifier", RedirectUri);

    private static PrepareAuthorization Prepare(string loginId, string provider = "p") =>
        new(provider, loginId, "state-" + loginId, null, RedirectUri, [], new Dictionary<string, string>());

    private IActorRef Registry(int maxConcurrent = 32, Func<string, HttpClient>? http = null, TimeSpan? exchangeTimeout = null) =>
        Sys.ActorOf(ProviderRegistryActor.Props(http ?? (_ => new HttpClient()), maxConcurrent, exchangeTimeout ?? ExchangeTimeout));

    private static async Task Register(IActorRef registry, ProviderStrategy strategy) =>
        Assert.Equal(strategy.Name, (await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait)).Provider);

    /// <summary>A one-slot provider: the exchange of code <paramref name="held"/> holds the slot (until released), <paramref name="queued"/>'s waits.</summary>
    private async Task<(ScriptedStrategy Strategy, IActorRef Registry, TestProbe Held, TestProbe Queued)> OneSlotHeldAndOneQueuedAsync(string held, string queued)
    {
        var strategy = new ScriptedStrategy("p");
        var registry = Registry(maxConcurrent: 1);
        await Register(registry, strategy);
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        holder.Send(registry, Exchange(held));
        AwaitAssert(() => Assert.Equal([held], strategy.Started), Wait);
        waiter.Send(registry, Exchange(queued));
        return (strategy, registry, holder, waiter);
    }

    [Fact]
    public async Task Runs_at_most_the_configured_number_of_token_requests_at_once_and_queues_the_rest()
    {
        var strategy = new ScriptedStrategy("p");
        var registry = Registry(maxConcurrent: 2);
        await Register(registry, strategy);
        var callers = Enumerable.Range(1, 3).Select(_ => CreateTestProbe()).ToArray();

        for (var i = 0; i < 3; i++) callers[i].Send(registry, Exchange($"c{i + 1}"));

        AwaitAssert(() => Assert.Equal(["c1", "c2"], strategy.Started), Wait);
        ExpectNoMsg(Quiet);
        Assert.Equal(2, strategy.Started.Count);

        strategy.Release("c1");
        Assert.Equal("token-c1", callers[0].ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
        AwaitAssert(() => Assert.Equal(["c1", "c2", "c3"], strategy.Started), Wait);
        strategy.Release("c2");
        strategy.Release("c3");
        Assert.Equal("login-c2", callers[1].ExpectMsg<CodeExchanged>(Wait).LoginId);
        Assert.Equal("login-c3", callers[2].ExpectMsg<CodeExchanged>(Wait).LoginId);
    }

    [Fact]
    public async Task A_failed_discovery_answers_the_waiting_logins_and_is_tried_again_on_the_next()
    {
        var strategy = new ScriptedStrategy("p");
        strategy.FailResolve(1);
        var registry = Registry();
        await Register(registry, strategy);

        registry.Tell(Prepare("a"));
        var unavailable = ExpectMsg<ProviderUnavailable>(Wait);
        Assert.Equal("a", unavailable.LoginId);
        Assert.Contains("discovery is down", unavailable.Reason);

        registry.Tell(Prepare("b"));
        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.Equal("b", prepared.LoginId);
        Assert.Equal("https://p.test", prepared.Descriptor.Issuer);
        Assert.Equal(2, strategy.Resolves);

        // Resolved once, cached after.
        registry.Tell(Prepare("c"));
        ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.Equal(2, strategy.Resolves);
    }

    [Fact]
    public async Task Re_registering_a_provider_lets_the_exchanges_already_running_finish_and_sends_new_ones_to_the_new_strategy()
    {
        var old = new ScriptedStrategy("p", tokenPrefix: "old");
        var replacement = new ScriptedStrategy("p", tokenPrefix: "new") { Gated = false };
        var registry = Registry();
        await Register(registry, old);
        var inFlight = CreateTestProbe();
        inFlight.Send(registry, Exchange("before"));
        AwaitAssert(() => Assert.Equal(["before"], old.Started), Wait);

        await Register(registry, replacement);
        var after = CreateTestProbe();
        after.Send(registry, Exchange("after"));
        Assert.Equal("new-after", after.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);

        // The code was already sent to the old strategy's token endpoint: its answer must still reach the login.
        old.Release("before");
        Assert.Equal("old-before", inFlight.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
        Assert.Equal(["before"], old.Started);
    }

    [Fact]
    public async Task A_login_withdraws_its_code_from_a_replaced_provider_still_draining_its_queue()
    {
        var (old, registry, slow, cancelled) = await OneSlotHeldAndOneQueuedAsync("slow", "queued");

        // The provider is replaced while the code waits in the old actor's queue; then its login is cancelled.
        await Register(registry, new ScriptedStrategy("p"));
        cancelled.Send(registry, new WithdrawExchange("p", "login-queued"));

        Assert.Contains("not sent", cancelled.ExpectMsg<CodeExchangeFailed>(Wait).Reason);
        old.Release("slow");
        slow.ExpectMsg<CodeExchanged>(Wait);
        cancelled.ExpectNoMsg(Quiet);
        Assert.Equal(["slow"], old.Started);
    }

    [Fact]
    public async Task A_replaced_provider_stops_once_drained()
    {
        var old = new ScriptedStrategy("p");
        var registry = Registry();
        await Register(registry, old);
        var caller = CreateTestProbe();
        caller.Send(registry, Exchange("x"));
        AwaitAssert(() => Assert.Single(old.Started), Wait);
        var provider = (await Sys.ActorSelection(registry.Path / "*").Ask<ActorIdentity>(new Identify(1), Wait)).Subject!;
        Watch(provider);

        await Register(registry, new ScriptedStrategy("p") { Gated = false });
        ExpectNoMsg(Quiet); // still draining: not terminated
        old.Release("x");
        caller.ExpectMsg<CodeExchanged>(Wait);
        ExpectTerminated(provider, Wait);
    }

    [Fact]
    public async Task A_provider_actor_that_throws_answers_the_request_it_failed_on_and_keeps_the_others()
    {
        var calls = 0;
        var strategy = new ScriptedStrategy("p");
        // The second client creation throws: that happens on the actor's thread, so the actor fails and is restarted.
        var registry = Registry(http: _ => Interlocked.Increment(ref calls) == 2 ? throw new InvalidOperationException("no client") : new HttpClient());
        await Register(registry, strategy);
        var running = CreateTestProbe();
        var failing = CreateTestProbe();
        var later = CreateTestProbe();

        running.Send(registry, Exchange("running"));
        AwaitAssert(() => Assert.Single(strategy.Started), Wait);
        failing.Send(registry, Exchange("failing"));
        var failed = failing.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal("login-failing", failed.LoginId);
        Assert.Equal(LoginFailure.TokenExchange, failed.Failure);

        // The exchange in flight during the restart still answers its login; the restarted actor takes new work.
        strategy.Release("running");
        Assert.Equal("token-running", running.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
        later.Send(registry, Exchange("later"));
        strategy.Release("later");
        Assert.Equal("token-later", later.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
    }

    /// <summary>
    /// A restart forgot the token requests still at the provider: counted from zero again, the restarted actor sent as
    /// many more as the cap allows, over max-concurrent-exchanges until its predecessor's ended.
    /// </summary>
    [Fact]
    public async Task A_restarted_provider_actor_counts_the_requests_its_predecessor_still_has_at_the_provider()
    {
        var calls = 0;
        var strategy = new ScriptedStrategy("p");
        var registry = Registry(maxConcurrent: 2, http: _ => Interlocked.Increment(ref calls) == 2 ? throw new InvalidOperationException("no client") : new HttpClient());
        await Register(registry, strategy);
        var a = CreateTestProbe();
        var b = CreateTestProbe();
        var c = CreateTestProbe();
        var d = CreateTestProbe();

        a.Send(registry, Exchange("a"));
        AwaitAssert(() => Assert.Single(strategy.Started), Wait);
        b.Send(registry, Exchange("b")); // its client throws: the actor restarts
        b.ExpectMsg<CodeExchangeFailed>(Wait);
        c.Send(registry, Exchange("c"));
        d.Send(registry, Exchange("d"));

        // Two slots: a's (still at the provider) and c's; d waits for one.
        AwaitAssert(() => Assert.Equal(2, strategy.Started.Count), Wait);
        d.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(2, strategy.Started.Count);
        strategy.Release("a");
        Assert.Equal("token-a", a.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
        AwaitAssert(() => Assert.Equal(3, strategy.Started.Count), Wait);
        strategy.Release("c");
        strategy.Release("d");
        Assert.Equal("token-c", c.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
        Assert.Equal("token-d", d.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
    }

    [Fact]
    public async Task A_provider_actor_that_throws_starting_discovery_answers_the_logins_waiting_for_it_and_tries_again_later()
    {
        var calls = 0;
        var strategy = new ScriptedStrategy("p");
        var registry = Registry(http: _ => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("no client") : new HttpClient());
        await Register(registry, strategy);

        registry.Tell(Prepare("first"));
        var unavailable = ExpectMsg<ProviderUnavailable>(Wait);
        Assert.Equal("first", unavailable.LoginId);
        Assert.Contains("internal error", unavailable.Reason);

        registry.Tell(Prepare("second"));
        Assert.Equal("second", ExpectMsg<AuthorizationPrepared>(Wait).LoginId);
    }

    /// <summary>
    /// The logins that waited for discovery are handed on when it ends; one whose request throws on the actor's thread
    /// (its client could not be made) restarts the actor. The restart used to send every waiting login back to the actor,
    /// those already handed on included: a login was prepared twice, and the failed one was answered as failed and then
    /// asked the provider for a device code all the same.
    /// </summary>
    [Fact]
    public async Task A_login_that_fails_while_discoverys_waiting_logins_are_handed_on_leaves_the_others_answered_once()
    {
        var calls = 0;
        var discovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var strategy = new ScriptedStrategy("p") { ResolveHold = discovered.Task };
        // Discovery's client, then the browser login's, then the device login's, which throws.
        var registry = Registry(http: _ => Interlocked.Increment(ref calls) == 3 ? throw new InvalidOperationException("no client") : new HttpClient());
        await Register(registry, strategy);
        var browser = CreateTestProbe();
        var device = CreateTestProbe();

        browser.Send(registry, Prepare("browser"));
        AwaitCondition(() => Volatile.Read(ref strategy.Resolves) == 1, Wait, Polling.Interval);
        device.Send(registry, new RequestDeviceCode("p", "login-device", [], new Dictionary<string, string>()));
        device.ExpectNoMsg(Quiet); // both wait for discovery
        discovered.SetResult();

        Assert.Equal("browser", browser.ExpectMsg<AuthorizationPrepared>(Wait).LoginId);
        Assert.Contains("internal error", device.ExpectMsg<DeviceCodeRefused>(Wait).Failure.Reason);
        browser.ExpectNoMsg(Quiet);
        device.ExpectNoMsg(TimeSpan.Zero);
        Assert.DoesNotContain(strategy.Started, s => s.StartsWith("device:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_request_that_outlives_the_exchange_timeout_fails_as_a_timeout_and_frees_its_slot()
    {
        // One slot, a strategy that never answers on its own: the provider's own timer must end the request.
        var strategy = new ScriptedStrategy("p");
        var registry = Registry(maxConcurrent: 1, exchangeTimeout: TimeSpan.FromMilliseconds(300));
        await Register(registry, strategy);
        var stuck = CreateTestProbe();
        var next = CreateTestProbe();
        // The next request answers as soon as it is sent: its own 300 ms must not race the test's polling.
        strategy.Release("next");

        stuck.Send(registry, Exchange("stuck"));
        next.Send(registry, Exchange("next"));

        var failed = stuck.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(LoginFailure.ExchangeTimeout, failed.Failure);
        Assert.Contains("did not answer within", failed.Reason);
        AwaitAssert(() => Assert.Equal(["stuck", "next"], strategy.Started), Wait);
        Assert.Equal("token-next", next.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
    }

    [Fact]
    public async Task A_provider_actor_that_stops_answers_the_requests_it_still_held_and_the_one_it_sent_when_it_returns()
    {
        // One slot taken by an exchange the strategy holds (its code is at the provider); the next one waits in the queue.
        var (strategy, registry, sent, queued) = await OneSlotHeldAndOneQueuedAsync("stuck", "queued");
        var provider = await Sys.ActorSelection(registry.Path / "*").ResolveOne(Wait);
        await registry.Ask<ActorIdentity>(new Identify(1), Wait); // the queued exchange has been handed to the provider's actor

        // Stopped (as the registry stops one that failed too often, or the system on shutdown).
        provider.Tell(PoisonPill.Instance);

        var failed = queued.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal("login-queued", failed.LoginId);
        Assert.Contains("stopped before it could answer", failed.Reason);

        // The code was spent at the provider: its tokens still reach their login, though the actor that sent it is gone.
        Watch(provider);
        ExpectTerminated(provider, Wait);
        strategy.Release("stuck");
        Assert.Equal("token-stuck", sent.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
    }

    [Fact]
    public async Task A_strategy_that_throws_before_returning_its_task_fails_that_request_only()
    {
        // Not async: the throw happens inside the call, before any task exists.
        var registry = Registry();
        await Register(registry, new ThrowsAtOnce());
        var bad = CreateTestProbe();
        var good = CreateTestProbe();

        bad.Send(registry, Exchange("bad"));
        var failed = bad.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(LoginFailure.TokenExchange, failed.Failure);
        Assert.Contains(nameof(InvalidOperationException), failed.Reason);

        bad.Send(registry, Prepare("url-bad"));
        Assert.Equal("url-bad", bad.ExpectMsg<ProviderUnavailable>(Wait).LoginId);

        good.Send(registry, Exchange("good"));
        Assert.Equal("token-good", good.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
        good.Send(registry, Prepare("url-good"));
        Assert.Equal("url-good", good.ExpectMsg<AuthorizationPrepared>(Wait).LoginId);
    }

    [Fact]
    public async Task A_strategy_that_returns_no_task_fails_that_request_saying_so_and_keeps_serving()
    {
        var registry = Registry();
        await Register(registry, new ThrowsAtOnce());
        var bad = CreateTestProbe();
        var good = CreateTestProbe();

        // An override whose "none" is a null result, written as a null task: answered, and the actor is not restarted.
        bad.Send(registry, new FetchUserInfo("p", "userinfo-1", new UserInfoContext("access-token", "Bearer")));
        var failed = bad.ExpectMsg<UserInfoFetchFailed>(Wait);
        Assert.Equal("userinfo-1", failed.RequestId);
        Assert.Contains("returned no task", failed.Error.Message);

        good.Send(registry, Exchange("good"));
        Assert.Equal("token-good", good.ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
    }

    /// <summary>
    /// A device code and a revocation whose override returns no task fail saying so: awaited inside the request, the null
    /// failed as a NullReferenceException ("the token exchange failed (NullReferenceException)").
    /// </summary>
    [Fact]
    public async Task A_device_code_or_revocation_whose_override_returns_no_task_fails_saying_so()
    {
        var registry = Registry();
        await Register(registry, new ThrowsAtOnce());
        var login = CreateTestProbe();

        login.Send(registry, new RequestDeviceCode("p", "login-1", [], new Dictionary<string, string>()));
        Assert.Contains("returned no task", login.ExpectMsg<DeviceCodeRefused>(Wait).Failure.Reason);
        login.Send(registry, new RevokeTokens("p", "revoke-1", [new RevocationContext("rt", "refresh_token")]));
        var revocation = login.ExpectMsg<RevocationDone>(Wait);
        Assert.Equal(RevocationOutcome.Failed, revocation.Outcome);
        Assert.Contains("returned no task", revocation.Reason);
    }

    /// <summary>
    /// Tokens dropped with nobody holding them are revoked on a request nobody waits for (its sender Nobody): a failure
    /// was told to no one, and the grant stayed live at the provider without a trace. It is logged now, naming the request
    /// (its kind), never a token; a revocation someone waits for is answered, not logged.
    /// </summary>
    [Fact]
    public async Task A_revocation_nobody_waits_for_that_fails_is_logged_without_its_token()
    {
        var registry = Registry();
        await Register(registry, new ThrowsAtOnce());

        await EventFilter.Warning(contains: "revoke-late-x1: tokens nobody holds were not revoked").ExpectAsync(1, () =>
        {
            registry.Tell(new RevokeTokens("p", "revoke-late-x1", [new RevocationContext("secret-refresh-token", "refresh_token")]), ActorRefs.Nobody);
            return Task.CompletedTask;
        }, Wait);
        var login = CreateTestProbe();
        await EventFilter.Warning(contains: "tokens nobody holds").ExpectAsync(0, () =>
        {
            login.Send(registry, new RevokeTokens("p", "revoke-2", [new RevocationContext("rt", "refresh_token")]));
            Assert.Equal(RevocationOutcome.Failed, login.ExpectMsg<RevocationDone>(Wait).Outcome);
            return Task.CompletedTask;
        }, Wait);
    }

    /// <summary>Throws synchronously for the code "bad" and the login "url-bad", returns no task for UserInfo, a device code and a revocation; answers at once otherwise.</summary>
    private sealed class ThrowsAtOnce : ProviderStrategy
    {
        public override string Name => "p";

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) =>
            context.State == "state-url-bad" ? throw new InvalidOperationException("no URL") : new Uri($"https://p.test/authorize?state={context.State}");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            context.Code == "bad" ? throw new InvalidOperationException("broken strategy") : Task.FromResult(new TokenSet($"token-{context.Code}", "Bearer"));

        public override Task<System.Text.Json.JsonElement?> FetchUserInfoAsync(UserInfoContext context, HttpClient http, CancellationToken cancellationToken) =>
            null!;

        public override Task<DeviceAuthorization> RequestDeviceAuthorizationAsync(DeviceAuthorizationContext context, HttpClient http,
            CancellationToken cancellationToken) => null!;

        public override Task<bool> RevokeAsync(RevocationContext context, HttpClient http, CancellationToken cancellationToken) => null!;
    }
}
