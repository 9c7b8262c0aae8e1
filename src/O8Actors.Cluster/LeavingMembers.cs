using System.Collections.Immutable;
using Akka.Actor;

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
    private ImmutableHashSet<Address> _leaving = ImmutableHashSet<Address>.Empty;

    /// <summary>The members <paramref name="system"/> has heard are leaving.</summary>
    public static LeavingMembers Get(ActorSystem system) => system.WithExtension<LeavingMembers, LeavingMembersId>();

    /// <summary>Whether <paramref name="address"/> said it is leaving.</summary>
    public bool Contains(Address address) => Volatile.Read(ref _leaving).Contains(address);

    /// <summary>
    /// Notes that <paramref name="address"/> leaves; the members noted before that are no longer among
    /// <paramref name="members"/> are forgotten (they have gone), so the set holds the cluster's current leavers only.
    /// </summary>
    public void Add(Address address, IReadOnlyCollection<Address> members) =>
        ImmutableInterlocked.Update(ref _leaving, static (set, change) => set.Intersect(change.members).Add(change.address), (address, members));

    internal sealed class LeavingMembersId : ExtensionIdProvider<LeavingMembers>
    {
        public override LeavingMembers CreateExtension(ExtendedActorSystem system) => new();
    }
}
