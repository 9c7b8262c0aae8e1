using Akka.Cluster.Sharding;

namespace O8Actors.Cluster;

/// <summary>
/// Sharding's view of the login messages: the entity id is the login's routing id, the shard is Akka's stable hash of it
/// (the same on every node) modulo the number of shards. The state never reaches the extractor's answers.
/// </summary>
internal sealed class LoginMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <inheritdoc />
    public override string? EntityId(object message) => message is ILoginEntityMessage m ? m.EntityId : null;
}
