using System.Collections.Concurrent;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.Browser;

namespace O8Actors.SoakTests.Support;

/// <summary>
/// A browser that opens nothing: it keeps each authorize URL, keyed by the login's <c>login_hint</c> tag, so a test can
/// hold a login "in the browser" for as long as it likes and decide when (and whether) the user comes back.
/// </summary>
internal sealed class HeldBrowser : IBrowserLauncher
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Uri>> _urls = new(StringComparer.Ordinal);

    public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        var hint = QueryHelpers.ParseQuery(authorizeUrl.Query).TryGetValue("login_hint", out var values) ? values.ToString() : "";
        Slot(hint).TrySetResult(authorizeUrl);
        return Task.FromResult(BrowserLaunchResult.Opened("held"));
    }

    /// <summary>The authorize URL of the login tagged <paramref name="tag"/>, once it has been "opened".</summary>
    public Task<Uri> AuthorizeUrlAsync(string tag, TimeSpan timeout) => Slot(tag).Task.WaitAsync(timeout);

    private TaskCompletionSource<Uri> Slot(string tag) =>
        _urls.GetOrAdd(tag, _ => new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously));
}
