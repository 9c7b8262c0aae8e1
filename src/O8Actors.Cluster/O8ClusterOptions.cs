namespace O8Actors.Cluster;

/// <summary>How <see cref="O8ClusterHostingExtensions.WithOAuthLoginsCluster(Akka.Hosting.AkkaConfigurationBuilder, Action{O8ClusterOptions}?)"/> shards logins.</summary>
public sealed class O8ClusterOptions
{
    /// <summary>The shard region's name (the same on every node). Default <c>o8-logins</c>.</summary>
    public string RegionName { get; set; } = "o8-logins";

    /// <summary>
    /// How many shards the logins are spread over (the same on every node, fixed for the cluster's life). Akka's guidance
    /// is about ten times the largest number of nodes. Default 100.
    /// </summary>
    public int NumberOfShards { get; set; } = 100;

    /// <summary>The cluster role whose nodes run logins; null (default): every node.</summary>
    public string? Role { get; set; }

    /// <summary>
    /// How long <c>BeginAsync</c> waits for some node to take a login before the login fails (for example while the cluster
    /// has not formed). Once a node has taken it, the login's own timeout and its provider's limits govern (a slow discovery
    /// fails as the provider's fault, as on a single node). Default 30 s; at most one day.
    /// </summary>
    public TimeSpan BeginTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
