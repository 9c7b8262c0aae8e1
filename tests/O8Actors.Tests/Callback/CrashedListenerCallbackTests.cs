using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Callback;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Callback;

/// <summary>
/// Browser callbacks still in the listener's mailbox when it crashed (the guardian stops it): they reach dead letters.
/// Before, nothing answered them: over loopback the browser's connection was reset when Kestrel stopped, in server mode
/// its request waited out the whole callback wait, then got "did not finish in time".
/// </summary>
public sealed class CrashedListenerCallbackTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private IActorRef StoppedListener()
    {
        var listener = CreateTestProbe().Ref;
        Watch(listener);
        Sys.Stop(listener);
        ExpectTerminated(listener, Wait);
        return listener;
    }

    [Fact]
    public void A_callback_left_in_a_stopped_listeners_mailbox_gets_the_page_of_a_stopped_listener()
    {
        ListeningWatcher.Start(this);
        var listener = StoppedListener();
        var browserRequest = CreateTestProbe();

        listener.Tell(new CallbackReceived("a-state", "a-code", null, null, null, "/"), browserRequest.Ref);

        Assert.Equal(CallbackPages.LoginGone, browserRequest.ExpectMsg<CallbackResponse>(Wait));
    }

    [Fact]
    public void A_clusters_search_left_there_gets_the_answer_of_a_search_that_found_nothing()
    {
        ListeningWatcher.Start(this);
        var listener = StoppedListener();
        var searching = CreateTestProbe();

        listener.Tell(new CallbackReceived("a-state", null, null, null, null, "/") { Search = true }, searching.Ref);

        Assert.Equal(CallbackPages.Malformed, searching.ExpectMsg<CallbackResponse>(Wait));
    }
}
