namespace O8Actors.Providers;

/// <summary>
/// An orchestrator that can take a provider off again (the standalone <see cref="OAuthLogins"/> and the hosted one):
/// an <see cref="OAuthFlow"/> whose instance ends takes its provider with it, on whichever it was handed.
/// </summary>
internal interface IUnregistersProviders
{
    /// <summary>
    /// Removes <paramref name="strategy"/> if it is still the registration under its name, putting
    /// <paramref name="successor"/> (of the same name) in its place in the same step when given; true when it was removed.
    /// </summary>
    Task<bool> UnregisterProviderAsync(ProviderStrategy strategy, ProviderStrategy? successor = null, CancellationToken cancellationToken = default);
}
