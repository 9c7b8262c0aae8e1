namespace O8Actors.Browser;

/// <summary>
/// Opens the authorize URL for the user. O8Actors calls it once per login and pipes the result back,
/// so an implementation may take its time but must not throw for "no browser": return <see cref="BrowserLaunchResult.NotLaunched"/>.
/// </summary>
public interface IBrowserLauncher
{
    /// <summary>Opens <paramref name="authorizeUrl"/> in a browser.</summary>
    /// <param name="authorizeUrl">The provider's authorize URL for this login.</param>
    /// <param name="cancellationToken">Cancelled when the login ends first.</param>
    Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken);
}

/// <summary>What a launcher did.</summary>
/// <param name="Launched">Whether a browser was started.</param>
/// <param name="Detail">What was run, or why nothing was (safe to log).</param>
public sealed record BrowserLaunchResult(bool Launched, string Detail)
{
    /// <summary>A browser was started with <paramref name="how"/>.</summary>
    public static BrowserLaunchResult Opened(string how) => new(true, how);

    /// <summary>No browser was started; the URL was shown to the user instead.</summary>
    public static BrowserLaunchResult NotLaunched(string why) => new(false, why);
}
