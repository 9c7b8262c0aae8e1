using Akka.Cluster.Sharding;

namespace O8Actors.Persistence.Registers;

/// <summary>Sharding's view of the register messages (in a cluster): the entity id is the account's id, or the index's.</summary>
internal sealed class RegisterMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <inheritdoc />
    public override string? EntityId(object message) => message is ITokenRegisterMessage m ? m.EntityId : null;
}
