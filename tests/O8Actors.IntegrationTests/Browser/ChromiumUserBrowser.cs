using Microsoft.Playwright;
using O8Actors.Browser;

namespace O8Actors.IntegrationTests.Browser;

/// <summary>
/// One user's browser, as O8Actors' launcher: every URL opens in the same browser context (one cookie jar, so the
/// provider's session lives from one login to the next, as in a real browser). Authorize URLs play the script of their
/// <c>login_hint</c>; the provider's end-session URL (<c>/session/end</c>) confirms the sign-out.
/// </summary>
public sealed class ChromiumUserBrowser(ChromiumLoginDriver driver, IBrowserContext context) : IBrowserLauncher
{
    private readonly Func<Uri, LoginScript> _scriptFor = ChromiumLoginDriver.ScriptFromLoginHint();
    private readonly List<LaunchedLogin> _launches = [];

    /// <summary>Every URL opened so far, in order, with the browser's outcome.</summary>
    public IReadOnlyList<LaunchedLogin> Launches
    {
        get
        {
            lock (_launches) return _launches.ToArray();
        }
    }

    /// <summary>Plays the URL's script in the background and reports the browser as opened.</summary>
    public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorizeUrl);
        var signOut = authorizeUrl.AbsolutePath.EndsWith("/session/end", StringComparison.Ordinal);
        var script = signOut ? LoginScript.ConfirmSignOut : _scriptFor(authorizeUrl);
        var completion = signOut
            ? Task.Run(() => driver.SignOutInAsync(context, authorizeUrl))
            : Task.Run(() => driver.RunInAsync(context, authorizeUrl, script, ChromiumLoginDriver.LoginHint(authorizeUrl)));
        lock (_launches) _launches.Add(new LaunchedLogin(authorizeUrl, script, completion));
        return Task.FromResult(BrowserLaunchResult.Opened("chromium (one user's context)"));
    }
}
