namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// The recorder's waits and what it keeps: a wait whose predicate throws fails on its own (the other waits still get the
/// event, and nothing escapes to the publisher), and a long-lived recorder keeps only its latest events.
/// </summary>
public sealed class LoginEventRecorderTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_throwing_predicate_faults_only_its_own_wait()
    {
        var recorder = new LoginEventRecorder();
        var throwing = recorder.WaitForAsync<LoginStartedEvent>(_ => throw new InvalidOperationException("The test's predicate is broken."), Wait);
        var fine = recorder.WaitForAsync<LoginStartedEvent>(e => e.LoginId == "l1", Wait);

        var publish = Record.Exception(() => recorder.OnNext(new LoginStartedEvent("l1", "sandbox")));

        Assert.Null(publish);
        Assert.Equal("l1", (await fine).LoginId);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => throwing);
        Assert.Equal("The test's predicate is broken.", failure.Message);
        Assert.Single(recorder.Events);
        // The recorder goes on: a later wait sees the event.
        Assert.Equal("l1", (await recorder.WaitForAsync<LoginStartedEvent>(timeout: Wait)).LoginId);
    }

    [Fact]
    public async Task A_recorder_keeps_only_its_latest_events()
    {
        var recorder = new LoginEventRecorder(maxEventsKept: 3);

        for (var i = 1; i <= 5; i++) recorder.OnNext(new LoginStartedEvent($"l{i}", "sandbox"));

        Assert.Equal(["l3", "l4", "l5"], recorder.Events.Select(e => e.LoginId));
        Assert.Empty(recorder.For("l1"));
        // A forgotten event is no longer found; one still to come is.
        var again = recorder.WaitForAsync<LoginStartedEvent>(e => e.LoginId == "l1", Wait);
        Assert.False(again.IsCompleted);
        recorder.OnNext(new LoginStartedEvent("l1", "sandbox"));
        Assert.Equal("l1", (await again).LoginId);
        Assert.Equal(3, recorder.Events.Count);
    }

    [Fact]
    public async Task The_harness_keeps_as_many_events_as_its_options_say()
    {
        await using var byDefault = new O8TestHarness();
        await using var five = new O8TestHarness(new O8TestHarnessOptions { MaxEventsKept = 5 });

        Assert.Equal(LoginEventRecorder.DefaultMaxEventsKept, new LoginEventRecorder().MaxEventsKept);
        Assert.Equal(LoginEventRecorder.DefaultMaxEventsKept, byDefault.Events.MaxEventsKept);
        Assert.Equal(5, five.Events.MaxEventsKept);
        Assert.Throws<ArgumentOutOfRangeException>(() => new O8TestHarness(new O8TestHarnessOptions { MaxEventsKept = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoginEventRecorder(0));
    }
}
