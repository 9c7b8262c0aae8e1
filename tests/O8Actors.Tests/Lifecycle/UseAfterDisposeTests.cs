using System.Diagnostics;
using O8Actors.Callback;
using O8Actors.Tests.Flows;
using O8Actors.Tests.Providers;
using O8Actors.Tests.Support;
using O8Actors.TestSupport;
using O8Actors.Providers;

using Xunit.Abstractions;

namespace O8Actors.Tests.Lifecycle;

/// <summary>After dispose nothing waits for actors that are gone: every call fails at once.</summary>
[Collection(EndToEnd.SharedOAuthFlowRuntime.Collection)]
public sealed class UseAfterDisposeTests(ITestOutputHelper output)
{
    // Far below any wait for an answer (an Ask to a gone actor waits its full timeout, 10 s), with room for a loaded machine.
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Every_call_after_DisposeAsync_throws_ObjectDisposedException_at_once()
    {
        var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), output: output);
        await flows.DisposeAsync();
        var strategy = new GenericOAuthStrategy(ProviderTestData.Options(new Uri("https://token.example.test/token")));

        Func<Task>[] calls =
        [
            () => flows.AuthorizeAsync(LoginsTestSupport.Provider),
            () => flows.RunAsync(LoginsTestSupport.Provider),
            () => flows.RefreshAsync(LoginsTestSupport.Provider, "refresh-token"),
            () => flows.RegisterProviderAsync(strategy),
            () => flows.GetRedirectUriAsync(),
            () => Task.FromResult(flows.Events.Subscribe(new LoginsTestSupport.Observer(_ => { }))),
        ];
        foreach (var call in calls)
        {
            var clock = Stopwatch.StartNew();
            await Assert.ThrowsAsync<ObjectDisposedException>(call);
            Assert.True(clock.Elapsed < AtOnce, $"took {clock.Elapsed}");
        }

        await flows.DisposeAsync(); // a second dispose is a no-op
    }

    /// <summary>
    /// An account's refresh is at the token endpoint when the app disposes (Ctrl+C, the caller cancelled): disposing waits
    /// for its answer and its save, so the store holds the rotated refresh token. Before, the answer went to the stopped
    /// account's dead letters and the store kept the spent one, which a rotating provider refuses on the next run.
    /// </summary>
    [Fact]
    public async Task Disposing_during_an_accounts_refresh_stores_the_refresh_token_it_brings()
    {
        var store = new InMemoryTokenStore();
        var strategy = new HeldRefreshStrategy();
        var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), setup =>
        {
            setup.TokenStore = store;
            setup.Providers.Add(strategy);
        }, output);
        var account = new OAuthAccount(HeldRefreshStrategy.ProviderName, "alice");
        await store.SaveAsync(account, new TokenSet("at-1", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "rt-1"), 0);
        using var cancel = new CancellationTokenSource();

        var refresh = flows.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true), cancellationToken: cancel.Token);
        await strategy.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => refresh.WaitAsync(TimeSpan.FromSeconds(10)));
        var disposing = flows.DisposeAsync().AsTask();
        // As ExpectNoMsg: a window in which a dispose that does not wait for the refresh ends (it took well under a second).
        var endedFirst = await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromSeconds(2))) == disposing;
        strategy.Answer.SetResult(new TokenSet("at-2", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "rt-2"));
        await disposing.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(endedFirst, "the dispose ended with the refresh still at the token endpoint");
        Assert.Equal("rt-2", (await store.LoadAsync(account))!.Tokens.RefreshToken);
    }

    /// <summary>
    /// Two parts of an app dispose one instance at once (a host's shutdown and a using block): the second call returned
    /// at once, before the port was released, and a restart that followed it could not bind.
    /// </summary>
    [Fact]
    public async Task A_DisposeAsync_while_another_is_under_way_returns_only_once_the_port_is_released()
    {
        var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), output: output);
        var port = (await flows.GetRedirectUriAsync()).Port;

        var first = flows.DisposeAsync().AsTask();
        await flows.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(first.IsCompletedSuccessfully);
        using var rebind = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        rebind.Start(); // the port is free again
    }

    [Fact]
    public async Task Disposing_after_the_apps_own_actor_system_terminated_does_not_wait_for_the_actors_that_are_gone()
    {
        using var system = Akka.Actor.ActorSystem.Create("apps-own");
        var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), setup => setup.ActorSystem = system, output);
        await system.Terminate();

        // Before, it asked the gone actors to cancel and to stop the listener, waiting 10 s for each answer.
        await flows.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.True(flows.IsDisposed);
    }

    [Fact]
    public async Task A_login_in_flight_when_disposed_ends_as_Cancelled()
    {
        var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), output: output);
        var url = LoginsTestSupport.NextAuthorizeUrl(flows, out var subscription);
        using var _ = subscription;
        var login = flows.RunAsync(LoginsTestSupport.Provider, new AuthorizationRequest(Timeout: TimeSpan.FromMinutes(5)));
        await url;

        await flows.DisposeAsync();

        Assert.IsType<LoginCancelled>(await login.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>An <see cref="OAuthFlow"/> like a console app writes one: no orchestrator of its own.</summary>
    private sealed class ConsoleFlow(int port, List<Uri> waiting) : OAuthFlow("client-1", "", "read", port)
    {
        protected override string AuthUrl => $"https://auth.example.test/authorize?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}&response_type=code";

        protected override Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken) =>
            Task.FromResult("at");

        public static string Line(Uri authorizeUrl) => WaitingMessage(authorizeUrl);

        protected override void OnWaitingForSignIn(Uri authorizeUrl)
        {
            lock (waiting) waiting.Add(authorizeUrl);
        }
    }

    [Fact]
    public async Task An_OAuthFlow_reused_after_ShutdownSharedAsync_starts_a_fresh_shared_runtime()
    {
        var port = CallbackListenerHost.FindFreePort(ipv6: false);
        var browser = new RecordingBrowser();
        ConfigureShared(port, browser);
        try
        {
            var waiting = new List<Uri>();
            var flow = new ConsoleFlow(port, waiting);

            await CancelledWhileWaitingAsync(flow, browser, expectedOpened: 1);
            await OAuthFlow.ShutdownSharedAsync();
            var clock = Stopwatch.StartNew();
            await CancelledWhileWaitingAsync(flow, browser, expectedOpened: 2);

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the second login took {clock.Elapsed}");
            // Each login said once that it waits, with the URL the browser got. The line comes from the event stream,
            // which may deliver it after the browser opened: wait for it, then compare.
            await TestSupport.Eventually.TrueAsync(() => { lock (waiting) return waiting.Count >= 2; }, "both logins said they wait", TimeSpan.FromSeconds(10));
            lock (waiting) Assert.Equal(browser.Opened.ToArray(), waiting.ToArray());
            Assert.Equal($"Waiting for sign-in at {browser.Opened.First()} (Ctrl+C to cancel)", ConsoleFlow.Line(browser.Opened.First()));
        }
        finally
        {
            await OAuthFlow.ShutdownSharedAsync();
            OAuthFlow.ConfigureShared = null;
        }
    }

    /// <summary>
    /// A shutdown while the process-wide orchestrator still starts (its first call is under way): the start was skipped,
    /// ran on where no later shutdown could find it, held its port, and its call's login waited for the browser.
    /// </summary>
    [Fact]
    public async Task ShutdownSharedAsync_while_the_shared_runtime_starts_stops_it_once_started_and_ends_the_call_that_started_it()
    {
        await using var held = await HeldStartAsync(flow => flow.AuthorizeAsync(TimeSpan.FromMinutes(1)));

        var shutdown = OAuthFlow.ShutdownSharedAsync();
        held.Release();
        await shutdown.WaitAsync(TimeSpan.FromSeconds(30));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held.Call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(held.Browser.Opened);
        using var rebind = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, held.Port);
        rebind.Start(); // the shutdown stopped it: the port is free
    }

    /// <summary>
    /// A shutdown right after the call that starts the process-wide orchestrator (before the start has begun on its
    /// thread): the start found its own runtime among those stopping and waited for its own stop, which waited for the
    /// start; the shutdown, the call and every later call on the port hung.
    /// </summary>
    [Fact]
    public async Task ShutdownSharedAsync_right_after_the_first_call_neither_hangs_nor_blocks_the_port()
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var port = CallbackListenerHost.FindFreePort(ipv6: false);
            ConfigureShared(port, new RecordingBrowser());
            try
            {
                var flow = new ConsoleFlow(port, []);
                var call = flow.AuthorizeAsync(TimeSpan.FromMinutes(1));
                var stop = OAuthFlow.ShutdownSharedAsync();

                await stop.WaitAsync(TimeSpan.FromSeconds(30));
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
                var next = new ConsoleFlow(port, []).GetAccessTokenAsync(allowInteraction: false);
                Assert.Equal(InteractionReason.NoAccount,
                    (await Assert.ThrowsAsync<InteractionRequiredException>(() => next.WaitAsync(TimeSpan.FromSeconds(30)))).Reason);
            }
            finally
            {
                await OAuthFlow.ShutdownSharedAsync().WaitAsync(TimeSpan.FromSeconds(30));
                OAuthFlow.ConfigureShared = null;
            }
        }
    }

    /// <summary>
    /// Two shutdowns at once (a Ctrl+C handler beside a <c>finally</c>): the second found the runtime already taken off the
    /// table and returned at once, while the first still stopped it, its port still held.
    /// </summary>
    [Fact]
    public async Task A_second_ShutdownSharedAsync_at_the_same_time_returns_only_once_the_runtime_has_stopped()
    {
        await using var held = await HeldStartAsync(flow => flow.AuthorizeAsync(TimeSpan.FromMinutes(1)));

        var first = OAuthFlow.ShutdownSharedAsync();
        var second = OAuthFlow.ShutdownSharedAsync();
        Assert.False(second.IsCompleted, "the second shutdown returned while the runtime still started");
        held.Release();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));

        using var rebind = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, held.Port);
        rebind.Start(); // both returned after the stop: the port is free
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held.Call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>
    /// A flow disposed while its first call waits for its registration (the process-wide orchestrator still starting):
    /// the call went on once the registration was made, while the dispose signed out and unregistered, and started a
    /// login (its browser opened) for a flow already disposed.
    /// </summary>
    [Fact]
    public async Task A_call_waiting_for_its_flows_registration_when_the_flow_is_disposed_starts_no_login()
    {
        await using var held = await HeldStartAsync(flow => flow.AuthorizeForTokensAsync(TimeSpan.FromMinutes(1)));

        var disposed = held.Flow.DisposeAsync().AsTask();
        held.Release();
        await disposed.WaitAsync(TimeSpan.FromSeconds(30));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held.Call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(held.Browser.Opened);
    }

    /// <summary>
    /// A flow's first <paramref name="call"/> on a free port, under way while the process-wide orchestrator it started is
    /// held in its start (its synchronous part) until <see cref="HeldStart.Release"/>.
    /// </summary>
    private async Task<HeldStart> HeldStartAsync(Func<ConsoleFlow, Task> call)
    {
        var port = CallbackListenerHost.FindFreePort(ipv6: false);
        var held = new HeldStart(port);
        ConfigureShared(port, held.Browser);
        OAuthFlow.WhileSharedStarts = p => p == port ? held.Hold() : Task.CompletedTask;
        held.Flow = new ConsoleFlow(port, []);
        held.Call = Task.Run(() => call(held.Flow));
        await held.Starting.WaitAsync(TimeSpan.FromSeconds(20));
        return held;
    }

    private sealed class HeldStart(int port) : IAsyncDisposable
    {
        private readonly TaskCompletionSource _starting = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Port => port;
        public RecordingBrowser Browser { get; } = new();
        public ConsoleFlow Flow { get; set; } = null!;
        public Task Call { get; set; } = Task.CompletedTask;
        public Task Starting => _starting.Task;

        /// <summary>Awaited by the start: says it started, then waits for <see cref="Release"/>.</summary>
        public Task Hold()
        {
            _starting.TrySetResult();
            return _release.Task;
        }

        public void Release() => _release.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            _release.TrySetResult();
            await OAuthFlow.ShutdownSharedAsync();
            OAuthFlow.WhileSharedStarts = null;
            OAuthFlow.ConfigureShared = null;
        }
    }

    /// <summary>The process-wide orchestrator on <paramref name="port"/> as a test runs it: plain http, a recording browser.</summary>
    private void ConfigureShared(int port, RecordingBrowser browser) =>
        OAuthFlow.ConfigureShared = (p, setup) =>
        {
            if (p != port) return;
            setup.Options.Listener.Scheme = "http";
            setup.Options.Listener.BindIPv6 = false;
            setup.Options.Listener.Host = "127.0.0.1";
            setup.Browser = browser;
            setup.LoggerFactory = TestOutputLogging.Factory(output);
            // Not the user's data folder: a test leaves nothing behind.
            setup.TokenStore = new InMemoryTokenStore();
        };

    private static async Task CancelledWhileWaitingAsync(OAuthFlow flow, RecordingBrowser browser, int expectedOpened)
    {
        using var cancel = new CancellationTokenSource();
        var login = flow.AuthorizeAsync(TimeSpan.FromMinutes(5), cancel.Token);
        await TestSupport.Eventually.TrueAsync(() => browser.Opened.Count == expectedOpened, "the login opened its browser", TimeSpan.FromSeconds(20));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => login.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
