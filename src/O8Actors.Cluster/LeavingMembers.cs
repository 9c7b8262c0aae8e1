using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;

namespace O8Actors.Cluster;

/// <summary>
/// The members that said they are leaving (<see cref="NodeLeaving"/>), per actor system. A member that leaves stays
/// <c>Up</c> until its shutdown's <c>cluster-leave</c> phase, long after its shard regions have handed their shards off
/// and stopped (up to minutes while an account there finishes a refresh), so a node that leaves at the same time (a
/// scale-in by two, whose youngest members go together) took it for one that stays and sent its callbacks, begins and
/// account writes to a region that had stopped (<see cref="RegionOnAnotherNode"/> now passes over these).
/// </summary>
internal sealed class LeavingMembers : IExtension
{
    // By unique address (address and incarnation): a node restarted on the same host and port (a StatefulSet's pod, a
    // service on a fixed port) is another member, which has not said it leaves.
    private ImmutableHashSet<UniqueAddress> _leaving = ImmutableHashSet<UniqueAddress>.Empty;

    /// <summary>The members <paramref name="system"/> has heard are leaving.</summary>
    public static LeavingMembers Get(ActorSystem system) => system.WithExtension<LeavingMembers, LeavingMembersId>();

    /// <summary>Whether <paramref name="member"/> said it is leaving.</summary>
    public bool Contains(UniqueAddress member) => Volatile.Read(ref _leaving).Contains(member);

    /// <summary>
    /// Notes that <paramref name="member"/> leaves; the members noted before that are no longer among
    /// <paramref name="members"/> are forgotten (they have gone), so the set holds the cluster's current leavers only.
    /// </summary>
    public void Add(UniqueAddress member, IReadOnlyCollection<UniqueAddress> members) =>
        ImmutableInterlocked.Update(ref _leaving, static (set, change) => set.Intersect(change.members).Add(change.member), (member, members));

    internal sealed class LeavingMembersId : ExtensionIdProvider<LeavingMembers>
    {
        public override LeavingMembers CreateExtension(ExtendedActorSystem system) => new();
    }
}
