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
