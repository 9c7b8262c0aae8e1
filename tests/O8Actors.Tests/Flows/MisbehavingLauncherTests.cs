using O8Actors.Browser;
using O8Actors.Tests.EndToEnd;

namespace O8Actors.Tests.Flows;

/// <summary>
/// An app's browser launcher that answers with no result, or no task at all: the login says the launcher gave no answer
/// (no browser opened) and goes on waiting for its redirect. A null result stopped the login as an internal error, and
/// a null task was reported as a cancellation inside the launcher.
/// </summary>
public sealed class MisbehavingLauncherTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("result")]
    [InlineData("task")]
    public async Task A_launcher_answering_nothing_counts_as_no_browser_opened_and_the_login_goes_on(string missing)
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Port = 0;
            setup.Options.Listener.Scheme = "http";
            setup.Browser = new AnswersNothing(missing);
            setup.Providers.Add(server.Strategy("nothing"));
        });
        var launched = new TaskCompletionSource<BrowserLaunchedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = logins.Events.Subscribe(new LaunchObserver(launched));

        using var cancel = new CancellationTokenSource();
        var login = logins.RunAsync("nothing", new AuthorizationRequest(Timeout: TimeSpan.FromMinutes(1)) { Method = LoginMethod.Browser }, cancel.Token);
        var launch = await launched.Task.WaitAsync(Wait);

        Assert.False(launch.Launched);
        Assert.Contains($"returned no {missing}", launch.Detail, StringComparison.Ordinal);
        // Still waiting for its redirect (the user may open the URL another way): it ends as its caller says.
        Assert.Equal(1, (await logins.GetStatusAsync()).CallbacksAwaited);
        await cancel.CancelAsync();
        Assert.IsType<LoginCancelled>(await login.WaitAsync(Wait));
    }

    private sealed class AnswersNothing(string missing) : IBrowserLauncher
    {
        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
            missing == "task" ? null! : Task.FromResult<BrowserLaunchResult>(null!);
    }

    private sealed class LaunchObserver(TaskCompletionSource<BrowserLaunchedEvent> launched) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value)
        {
            if (value is BrowserLaunchedEvent launch) launched.TrySetResult(launch);
        }

        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }
}
