namespace O8Actors.Providers;

/// <summary>
/// An app's <see cref="ProviderStrategy"/> override returned no task at all (<c>null</c>, often an override whose "none"
/// was written as a null task): its request fails saying so, like one that throws.
/// </summary>
internal sealed class StrategyReturnedNoTaskException() : InvalidOperationException("The provider strategy returned no task (null) for this request.")
{
    /// <summary>
    /// <paramref name="task"/>, or this exception for a null one: an override's task is awaited or wrapped, where a null
    /// would fail as a null reference.
    /// </summary>
    public static Task<T> Checked<T>(Task<T>? task) => task ?? throw new StrategyReturnedNoTaskException();
}
