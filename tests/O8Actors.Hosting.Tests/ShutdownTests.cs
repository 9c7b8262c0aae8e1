using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Hosting.Tests;

/// <summary>Host stop with logins pending: each ends Cancelled and the listener's port is free at once.</summary>
public sealed class ShutdownTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Host_stop_cancels_pending_logins_and_releases_the_port()
    {
        var clientId = "shutdown-" + Guid.NewGuid().ToString("N");
        // The user opens the provider's page and never comes back.
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { Script = _ => BrowserAction.Abandon });
        using var host = HostedO8.Build(HostedO8.SandboxSettings(sandbox, clientId), o => o.Browser = _ => browser, systemName: "o8-shutdown");
        await host.StartAsync(TestContext.Current.CancellationToken);
        var flows = host.Services.GetRequiredService<IOAuthLogins>();
        var redirect = await flows.GetRedirectUriAsync("sandbox", TestContext.Current.CancellationToken);
        sandbox.Server.RegisterClient(clientId, null, [redirect.ToString()], ClientAuthMethod.None);

        const int pendingLogins = 3;
        var urlsReady = 0;
        var allReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = flows.Events.Subscribe(new Observer(e =>
        {
            if (e is AuthorizeUrlReadyEvent && Interlocked.Increment(ref urlsReady) == pendingLogins) allReady.TrySetResult();
        }));
        var logins = Enumerable.Range(0, pendingLogins)
            .Select(i => flows.RunAsync("sandbox", SandboxFixture.Hint($"user-{i}", TimeSpan.FromMinutes(5))))
            .ToArray();
        await allReady.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        await host.StopAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var outcomes = await Task.WhenAll(logins).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.All(outcomes, o => Assert.IsType<LoginCancelled>(o));
        // The port is free right after the stop: a new listener binds it.
        var rebind = new TcpListener(IPAddress.Loopback, redirect.Port);
        rebind.Start();
        rebind.Stop();
    }

    /// <summary>
    /// An account's refresh is at the token endpoint when the host stops: the stop waits (within its ShutdownTimeout) for
    /// the answer and its save, so the store holds the rotated refresh token. Before, the answer went to the stopped
    /// account's dead letters and the store kept the spent one, which a rotating provider refuses after the restart.
    /// </summary>
    [Fact]
    public async Task Host_stop_during_an_accounts_refresh_stores_the_refresh_token_it_brings()
    {
        var store = new InMemoryTokenStore();
        var strategy = new O8Actors.TestSupport.HeldRefreshStrategy();
        using var host = HostedO8.Build(HostedO8.LoopbackSettings(), o => o.AddProvider(strategy), systemName: "o8-shutdown-refresh",
            services: s => s.AddSingleton<ITokenStore>(store));
        await host.StartAsync(TestContext.Current.CancellationToken);
        var account = new OAuthAccount(O8Actors.TestSupport.HeldRefreshStrategy.ProviderName, "alice");
        await store.SaveAsync(account, new TokenSet("at-1", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "rt-1"), 0, TestContext.Current.CancellationToken);
        var refresh = host.Services.GetRequiredService<IOAuthLogins>().GetAccessTokenAsync(account,
            options: new AccessTokenOptions(ForceRefresh: true), cancellationToken: TestContext.Current.CancellationToken);
        await strategy.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        var stopping = host.StopAsync(CancellationToken.None);
        // As ExpectNoMsg: a window in which a stop that does not wait for the refresh ends (it took well under a second).
        var endedFirst = await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken)) == stopping;
        strategy.Answer.SetResult(new TokenSet("at-2", "Bearer", DateTimeOffset.UtcNow.AddHours(1), "rt-2"));
        await stopping.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.False(endedFirst, "the host stopped with the refresh still at the token endpoint");
        Assert.Equal("rt-2", (await store.LoadAsync(account, TestContext.Current.CancellationToken))!.Tokens.RefreshToken);
        Assert.Equal("at-2", (await refresh).Token);
    }

    [Fact]
    public async Task Calls_after_host_stop_throw_ObjectDisposedException_at_once()
    {
        using var host = HostedO8.Build(HostedO8.LoopbackSettings(), systemName: "o8-after-stop");
        await host.StartAsync(TestContext.Current.CancellationToken);
        var flows = host.Services.GetRequiredService<IOAuthLogins>();
        await flows.GetRedirectUriAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => flows.RunAsync("anything", cancellationToken: TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => flows.GetRedirectUriAsync(TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => flows.RefreshAsync("anything", "refresh-token", cancellationToken: TestContext.Current.CancellationToken));

        // Far below any wait for an answer (an Ask to a gone actor waits its full timeout), with room for a loaded machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
    }

    private sealed class Observer(Action<LoginEvent> onNext) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value) => onNext(value);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
