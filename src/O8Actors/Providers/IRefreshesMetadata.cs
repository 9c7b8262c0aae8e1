namespace O8Actors.Providers;

/// <summary>
/// A strategy that reads its provider's metadata again while in use (<see cref="OidcDiscoveryStrategy"/>): the provider
/// actor takes each login's descriptor from <see cref="LatestDescriptor"/> rather than from its first resolution, and
/// logs what <see cref="Refreshed"/> reports (the strategy has no log of its own).
/// </summary>
internal interface IRefreshesMetadata
{
    /// <summary>What the metadata read last says; null before it was first read.</summary>
    ProviderDescriptor? LatestDescriptor { get; }

    /// <summary>Raised when a background read of the metadata ends, on the thread that ended it.</summary>
    event Action<MetadataRefreshed>? Refreshed;
}

/// <summary>A background read of a provider's metadata ended.</summary>
/// <param name="Provider">The provider's name.</param>
/// <param name="Descriptor">What the new metadata says; null when the read failed.</param>
/// <param name="Problem">Why the read failed (no secret in it: a discovery message); null when it succeeded.</param>
/// <param name="RetryIn">When it failed: how long until the next read may start.</param>
internal sealed record MetadataRefreshed(string Provider, ProviderDescriptor? Descriptor, string? Problem, TimeSpan RetryIn);
