using Akka.Cluster.Sharding;
using O8Actors.Accounts;

namespace O8Actors.Cluster;

/// <summary>
/// Sharding's view of the account messages: the entity id is the account's <see cref="OAuthAccount.Id"/> (provider and
/// subject or app key, escaped: identifiers, not secrets), the shard Akka's stable hash of it modulo the number of shards.
/// </summary>
internal sealed class AccountMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <inheritdoc />
    public override string? EntityId(object message) => message switch
    {
        GetAccessToken m => m.Account.Id,
        CancellableTokenRequest m => m.Request.Account.Id,
        CancelTokenRequest m => m.Account.Id,
        RememberLogin m => m.Account.Id,
        WireRememberLogin m => m.Account.Id,
        SignOut m => m.Account.Id,
        _ => null,
    };
}
