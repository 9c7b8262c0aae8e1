using O8Actors.Tests.Flows;

namespace O8Actors.Tests.EndToEnd;

/// <summary>
/// <see cref="IOAuthLogins.GetStatusAsync"/> on a real listener (plain http on a free port): bound, its redirect URI,
/// and the logins in flight and awaiting their callback, before, during and after a login.
/// </summary>
public sealed class StatusTests
{
    [Fact]
    public async Task Status_reports_the_bound_listener_and_counts_a_login_while_it_waits_for_its_callback()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        var browser = new RecordingBrowser(); // opens nothing: the login waits for a callback that never comes
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Port = 0;
            setup.Options.Listener.Scheme = "http";
            setup.Browser = browser;
            setup.Providers.Add(server.Strategy("status"));
        });
        var launched = new TaskCompletionSource<LoginEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = logins.Events.Subscribe(new BrowserLaunchObserver(launched));

        var idle = await logins.GetStatusAsync();
        Assert.True(idle.ListenerBound);
        Assert.Equal(await logins.GetRedirectUriAsync(), idle.RedirectUri);
        Assert.Equal(0, idle.LoginsInFlight);
        Assert.Equal(0, idle.CallbacksAwaited);
        Assert.Null(idle.ListenerFailure);

        using var cancel = new CancellationTokenSource();
        var login = logins.RunAsync("status", new AuthorizationRequest(Timeout: TimeSpan.FromMinutes(1)), cancel.Token);
        await launched.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var busy = await logins.GetStatusAsync();
        Assert.True(busy.ListenerBound);
        Assert.Equal(1, busy.LoginsInFlight);
        Assert.Equal(1, busy.CallbacksAwaited);

        await cancel.CancelAsync();
        Assert.IsType<LoginCancelled>(await login.WaitAsync(TimeSpan.FromSeconds(10)));
        // The login's actor unregisters its state as it stops, just after the outcome: wait (bounded) for it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        O8Status after;
        while ((after = await logins.GetStatusAsync()) is not { LoginsInFlight: 0, CallbacksAwaited: 0 } && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal(0, after.LoginsInFlight);
        Assert.Equal(0, after.CallbacksAwaited);
        Assert.True(after.ListenerBound);
    }

    private sealed class BrowserLaunchObserver(TaskCompletionSource<LoginEvent> launched) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value)
        {
            if (value is BrowserLaunchedEvent) launched.TrySetResult(value);
        }

        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }
}
