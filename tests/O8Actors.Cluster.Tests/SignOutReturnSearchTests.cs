using Akka.Actor;
using Akka.Cluster;

namespace O8Actors.Cluster.Tests;

/// <summary>Which members a sign-out's return is searched for on: only those that can answer.</summary>
public sealed class SignOutReturnSearchTests
{
    private static Address Node(int i) => new("akka.tcp", "o8", $"10.0.0.{i}", 4053);

    [Fact]
    public void Only_other_members_that_are_up_and_reachable_are_asked()
    {
        var members = new (Address, MemberStatus)[]
        {
            (Node(1), MemberStatus.Up),       // this node: its own listener was asked first
            (Node(2), MemberStatus.Up),
            (Node(3), MemberStatus.Up),       // unreachable: its ask would only time out
            (Node(4), MemberStatus.Joining),
            (Node(5), MemberStatus.Leaving),
            (Node(6), MemberStatus.Exiting),
            (Node(7), MemberStatus.Down),
            (Node(8), MemberStatus.WeaklyUp),
            (Node(9), MemberStatus.Up),
        };

        var asked = SignOutReturnSearch.MembersToAsk(members, [Node(3)], Node(1));

        Assert.Equal([Node(2), Node(9)], asked);
    }

    [Fact]
    public void A_node_alone_or_with_only_unreachable_members_asks_nobody()
    {
        Assert.Empty(SignOutReturnSearch.MembersToAsk([(Node(1), MemberStatus.Up)], [], Node(1)));
        Assert.Empty(SignOutReturnSearch.MembersToAsk([(Node(1), MemberStatus.Up), (Node(2), MemberStatus.Up)], [Node(2)], Node(1)));
    }
}
