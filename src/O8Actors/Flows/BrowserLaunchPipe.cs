using Akka.Actor;
using O8Actors.Browser;

namespace O8Actors.Flows;

/// <summary>Opens a URL with the app's launcher on behalf of an actor, whose answer comes back as a message.</summary>
internal static class BrowserLaunchPipe
{
    /// <summary>
    /// Runs <paramref name="browser"/> on the thread pool (a launcher may block before its first await: Process.Start,
    /// xdg-open; the actor must keep answering its callback, cancellation and deadline meanwhile) and pipes the result
    /// to <paramref name="self"/>: <paramref name="launched"/> for a result (a launcher that threw counts as not
    /// launched), <paramref name="refused"/> for a URL the launcher refused to open (<see cref="BrowserLaunchRefusedException"/>).
    /// </summary>
    public static void Start(IBrowserLauncher browser, Uri url, CancellationToken cancellationToken, IActorRef self,
        Func<BrowserLaunchResult, object> launched, Func<string, object> refused) =>
        // An app's launcher that answers nothing (no task, or a null result) opened no browser as far as anyone knows:
        // said so, rather than a cancellation Task.Run makes of a null task, or a null result that would fail the login.
        Task.Run(() => browser.LaunchAsync(url, cancellationToken) ?? Task.FromResult(NoAnswer("task")), CancellationToken.None).PipeTo(self,
            success: result => launched(result ?? NoAnswer("result")),
            failure: e => e is BrowserLaunchRefusedException refusal
                ? refused(refusal.Message)
                : launched(BrowserLaunchResult.NotLaunched($"the launcher failed ({e.GetType().Name})")));

    private static BrowserLaunchResult NoAnswer(string what) => BrowserLaunchResult.NotLaunched($"the launcher returned no {what}");
}
