namespace O8Actors.Providers;

/// <summary>
/// An orchestrator that can take a provider off again (the standalone <see cref="OAuthLogins"/> and the hosted one):
/// an <see cref="OAuthFlow"/> whose instance ends takes its provider with it, on whichever it was handed.
/// </summary>
internal interface IUnregistersProviders
{
    /// <summary>Removes <paramref name="strategy"/> if it is still the registration under its name; true when it was.</summary>
    Task<bool> UnregisterProviderAsync(ProviderStrategy strategy, CancellationToken cancellationToken = default);
}
