using Akka.Actor;
using O8Actors.Callback;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A sign-out's return searched across the members: the page of the node that has it answers as soon as it comes, not
/// once every member has answered (a member without O8Actors, or one just dead, answers only by timing out).
/// </summary>
public sealed class SignOutReturnFindTests : Akka.TestKit.Xunit.TestKit
{
    // Well under the search's own ask timeout (10 s): a search that waits for a silent member cannot pass.
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>A node's listener (asked with <see cref="CallbackReceived"/>) or gateway (<see cref="SignOutReturnHere"/>) that answers <paramref name="page"/>.</summary>
    private sealed class Node : ReceiveActor
    {
        public Node(CallbackResponse page)
        {
            Receive<CallbackReceived>(_ => Sender.Tell(page));
            Receive<SignOutReturnHere>(_ => Sender.Tell(page));
        }

        public static Props Answering(CallbackResponse page) => Props.Create(() => new Node(page));
    }

    private ActorSelection Selection(IActorRef actor) => Sys.ActorSelection(actor.Path);

    [Fact]
    public async Task The_owners_page_answers_at_once_whatever_a_silent_member_does()
    {
        var silent = Sys.ActorSelection("/user/no-gateway-here");
        var unknownHere = Sys.ActorOf(Node.Answering(CallbackPages.Malformed));
        var owner = Sys.ActorOf(Node.Answering(CallbackPages.SignedOut));

        var page = await SignOutReturnSearch.FindAsync(unknownHere, [silent, Selection(owner)], "state", "/test").WaitAsync(Wait, TestContext.Current.CancellationToken);

        Assert.Equal(CallbackPages.SignedOut, page);
    }

    [Fact]
    public async Task A_return_no_member_has_gets_the_400_once_every_member_said_so()
    {
        var here = Sys.ActorOf(Node.Answering(CallbackPages.Malformed));
        var other = Sys.ActorOf(Node.Answering(CallbackPages.Malformed));

        var page = await SignOutReturnSearch.FindAsync(here, [Selection(other)], "state", "/test").WaitAsync(Wait, TestContext.Current.CancellationToken);

        Assert.Equal(CallbackPages.Malformed, page);
    }
}
