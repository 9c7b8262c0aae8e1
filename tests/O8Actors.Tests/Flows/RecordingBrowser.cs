using System.Collections.Concurrent;
using O8Actors.Browser;

namespace O8Actors.Tests.Flows;

/// <summary>A browser launcher that only remembers which URLs it was asked to open.</summary>
internal sealed class RecordingBrowser : IBrowserLauncher
{
    public ConcurrentQueue<Uri> Opened { get; } = new();

    public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        Opened.Enqueue(authorizeUrl);
        return Task.FromResult(BrowserLaunchResult.Opened("recording"));
    }
}
