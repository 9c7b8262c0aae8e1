using O8Actors.Logout;

namespace O8Actors.Tests.Logout;

/// <summary>
/// What a graceful stop waits for before the accounts stop: every back-channel logout under way, one that arrives while
/// it waits included (a post still being checked when the stop began is accepted later), within its bound.
/// </summary>
public sealed class LogoutsUnderWayTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_logout_that_arrives_while_the_stop_waits_is_waited_for_too()
    {
        var underWay = new LogoutsUnderWay();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arriving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        underWay.Track(first.Task);

        var stop = underWay.WaitAsync(Wait);
        underWay.Track(arriving.Task);
        first.SetResult();

        // A wait that took one look at what ran would end within this (the first logout has ended); this one cannot.
        Assert.NotSame(stop, await Task.WhenAny(stop, Task.Delay(TimeSpan.FromMilliseconds(300))));
        Assert.Equal(1, underWay.Count);
        arriving.SetException(new InvalidOperationException("its account did not answer"));
        await stop.WaitAsync(Wait); // a failed logout ends the wait without throwing
        Assert.Equal(0, underWay.Count);
    }

    [Fact]
    public async Task The_wait_ends_at_its_bound_when_a_logout_does_not()
    {
        var underWay = new LogoutsUnderWay();
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        underWay.Track(stuck.Task);

        await underWay.WaitAsync(TimeSpan.FromMilliseconds(50)).WaitAsync(Wait);

        Assert.Equal(1, underWay.Count);
        stuck.SetResult();
    }
}
