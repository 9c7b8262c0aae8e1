using O8Actors.TestKit.Browser;

namespace O8Actors.TestKit.Tests.Browser;

/// <summary>
/// Waiting for a visit that is never launched: a disposed browser faults the waits it still holds (a test awaiting one
/// without a token would otherwise hang), and a wait given up by its token is not held.
/// </summary>
public sealed class ScriptedBrowserWaiterTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Waits_for_visits_never_launched_fault_when_the_browser_is_disposed()
    {
        var browser = new ScriptedBrowser();
        var first = browser.VisitAsync(0);
        var again = browser.VisitAsync(0);
        var later = browser.VisitAsync(3);

        await browser.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => first.WaitAsync(Wait));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => again.WaitAsync(Wait));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => later.WaitAsync(Wait));
        // Asked after the dispose: no launch can come either.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => browser.VisitAsync(1).WaitAsync(Wait));
        Assert.Equal(0, browser.PendingWaiters);
    }

    [Fact]
    public async Task A_cancelled_wait_is_not_held_and_leaves_the_other_waits_of_its_visit()
    {
        await using var browser = new ScriptedBrowser();
        using var giveUp = new CancellationTokenSource();
        var cancelled = browser.VisitAsync(0, giveUp.Token);
        var kept = browser.VisitAsync(0);
        var other = browser.VisitAsync(1, giveUp.Token);

        await giveUp.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Wait));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => other.WaitAsync(Wait));
        Assert.Equal(1, browser.PendingWaiters); // only the wait still running
        Assert.False(kept.IsCompleted);
    }

    /// <summary>
    /// A wait without a token for a visit that never comes (its login ended before the browser opened) waited for ever:
    /// the test hung instead of failing. It faults within the launch wait, saying what was launched.
    /// </summary>
    [Fact]
    public async Task A_wait_without_a_token_for_a_visit_that_never_comes_faults_within_the_launch_wait()
    {
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { LaunchWait = TimeSpan.FromMilliseconds(300) });

        var error = await Assert.ThrowsAsync<TimeoutException>(() => browser.VisitAsync(0).WaitAsync(Wait));

        Assert.Contains("Visit 0 was not launched within 0.3 seconds (0 launched so far)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, browser.PendingWaiters);
        // Longer than a timer can wait: refused when the browser is made, not by every wait later.
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScriptedBrowser(new ScriptedBrowserOptions { LaunchWait = TimeSpan.MaxValue }));
    }
}
