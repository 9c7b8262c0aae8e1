using Akka.Actor;
using Akka.Cluster;

namespace O8Actors.Cluster.Tests;

/// <summary>The members a node has heard are leaving: known by incarnation, and forgotten once gone.</summary>
public sealed class LeavingMembersTests
{
    private static readonly Address Pod2 = new("akka.tcp", "o8", "pod-2.o8", 4053);
    private static readonly Address Pod1 = new("akka.tcp", "o8", "pod-1.o8", 4053);

    /// <summary>
    /// A StatefulSet's pod comes back on the same host and port after it left: by address alone it was still "leaving"
    /// for good, and once every other node had restarted so, a leaving node found no node to route through.
    /// </summary>
    [Fact]
    public void A_member_restarted_on_the_same_address_is_not_taken_for_the_one_that_left()
    {
        var leaving = new LeavingMembers();
        var before = new UniqueAddress(Pod2, 1);
        var after = new UniqueAddress(Pod2, 2);

        leaving.Add(before, [before, new UniqueAddress(Pod1, 7)]);

        Assert.True(leaving.Contains(before));
        Assert.False(leaving.Contains(after));
    }

    [Fact]
    public void Members_no_longer_in_the_cluster_are_forgotten_as_the_next_one_is_noted()
    {
        var leaving = new LeavingMembers();
        var gone = new UniqueAddress(Pod2, 1);
        var pod1 = new UniqueAddress(Pod1, 7);
        leaving.Add(gone, [gone, pod1]);

        leaving.Add(pod1, [pod1, new UniqueAddress(Pod2, 2)]);

        Assert.False(leaving.Contains(gone));
        Assert.True(leaving.Contains(pod1));
    }
}
