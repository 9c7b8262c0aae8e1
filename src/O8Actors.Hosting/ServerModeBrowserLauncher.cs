using O8Actors.Browser;

namespace O8Actors.Hosting;

/// <summary>
/// The launcher of server mode: it opens nothing, because the authorize URL goes to the caller
/// (<see cref="IOAuthConnector.BeginAsync(Microsoft.AspNetCore.Http.HttpContext, string, AuthorizationRequest?, CancellationToken)"/>), who redirects its own user there.
/// </summary>
internal sealed class ServerModeBrowserLauncher : IBrowserLauncher
{
    /// <summary>The single instance.</summary>
    public static ServerModeBrowserLauncher Instance { get; } = new();

    /// <inheritdoc />
    /// <remarks>Reported as opened: the URL did reach a browser, through the caller's redirect (no "no browser" warning per login).</remarks>
    public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
        Task.FromResult(BrowserLaunchResult.Opened("server mode: authorize URL handed to the caller"));
}
