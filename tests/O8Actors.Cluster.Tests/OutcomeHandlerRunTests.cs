using Akka.Event;
using O8Actors.Flows;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// The app's outcome handler, however it fails to finish, is never silent: the interface promises a failure is logged,
/// and a login's tokens may be on their way to the app's own store there.
/// </summary>
public sealed class OutcomeHandlerRunTests : Akka.TestKit.Xunit.TestKit
{
    private static readonly ClusterLoginEnded Ended = new("login-1", "sandbox", "user-1", new LoginCancelled("login-1"));

    private sealed class Handler(Func<Task> run) : IClusterLoginOutcomeHandler
    {
        public Task HandleAsync(ClusterLoginEnded ended, CancellationToken cancellationToken) => run();
    }

    private ILoggingAdapter Logger => Logging.GetLogger(Sys, "outcome-handler-test");

    public static TheoryData<string> Failures => ["throws", "faults", "times out", "no task"];

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task A_handler_that_does_not_finish_is_logged_while_the_node_runs(string failure)
    {
        var handler = new Handler(failure switch
        {
            "throws" => () => throw new InvalidOperationException("the app's bug"),
            "faults" => () => Task.FromException(new IOException("the app's database")),
            // An HTTP or database timeout in an async handler ends its task cancelled, not faulted.
            "times out" => () => Task.FromCanceled(new CancellationToken(canceled: true)),
            _ => () => null!,
        });

        await EventFilter.Warning(contains: "Login login-1: the outcome handler").ExpectAsync(1,
            () => OutcomeHandlerRun.Start(handler, Ended, CancellationToken.None, Logger), TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_login_that_ends_while_the_node_stops_still_runs_the_handler_with_the_stopping_token()
    {
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();
        var ran = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new Handler(() =>
        {
            ran.TrySetResult(true);
            return Task.CompletedTask;
        });

        _ = OutcomeHandlerRun.Start(handler, Ended, stopping.Token, Logger);

        Assert.True(await ran.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_handler_cancelled_by_the_nodes_shutdown_is_logged_by_its_exception_type_only()
    {
        using var terminating = new CancellationTokenSource();
        var handler = new Handler(() =>
        {
            terminating.Cancel();
            return Task.FromCanceled(terminating.Token);
        });
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings, typeof(Warning));

        await OutcomeHandlerRun.Start(handler, Ended, terminating.Token, Logger).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // Before: nothing was logged, and the app's record of the sign-in was lost silently.
        var warning = warnings.FishForMessage<Warning>(w => w.Message.ToString()!.Contains("outcome handler", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), cancellationToken: TestContext.Current.CancellationToken).Message.ToString()!;
        Assert.Contains("Login login-1: the outcome handler was cancelled by the node's shutdown", warning, StringComparison.Ordinal);
        Assert.Contains(nameof(TaskCanceledException), warning, StringComparison.Ordinal);
        Assert.DoesNotContain(new TaskCanceledException().Message, warning, StringComparison.Ordinal);
    }
}
