using System.Text.RegularExpressions;
using Microsoft.Playwright;
using O8Actors.Browser;

namespace O8Actors.IntegrationTests.Browser;

/// <summary>
/// A scripted user in headless Chromium at oidc-provider's dev interaction pages. Use <see cref="RunAsync"/> directly,
/// or hand the driver to O8Actors as its <see cref="IBrowserLauncher"/>: each <see cref="LaunchAsync"/> returns
/// <see cref="BrowserLaunchResult.Opened"/> at once and plays the script in the background, in its own browser context,
/// recording the outcome in <see cref="Launches"/>.
/// </summary>
public sealed partial class ChromiumLoginDriver : IBrowserLauncher, IAsyncDisposable
{
    private readonly ChromiumBrowser _browser;
    private readonly Func<Uri, LoginScript> _scriptFor;
    private readonly TimeSpan _stepTimeout;
    private readonly List<TaskCompletionSource<LaunchedLogin>> _launchSlots = [];
    private readonly List<LaunchedLogin> _launched = [];
    private readonly CancellationTokenSource _lifetime = new();
    private int _userCounter;

    /// <summary>Creates a driver.</summary>
    /// <param name="browser">The browser to open contexts in.</param>
    /// <param name="scriptFor">Picks the script for a launched URL (default: always <see cref="LoginScript.Approve"/>).</param>
    /// <param name="stepTimeout">How long one page step may take (default 60 s: generous, as CI runs test assemblies side by side on two cores).</param>
    public ChromiumLoginDriver(ChromiumBrowser browser, Func<Uri, LoginScript>? scriptFor = null, TimeSpan? stepTimeout = null)
    {
        _browser = browser;
        _scriptFor = scriptFor ?? (_ => LoginScript.Approve);
        _stepTimeout = stepTimeout ?? TimeSpan.FromSeconds(60);
    }

    /// <summary>Every login started through <see cref="LaunchAsync"/>, in launch order.</summary>
    public IReadOnlyList<LaunchedLogin> Launches
    {
        get
        {
            lock (_launchSlots)
                return _launched.ToArray();
        }
    }

    /// <summary>Starts the script for <paramref name="authorizeUrl"/> in the background and reports the browser as opened.</summary>
    public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorizeUrl);
        var script = _scriptFor(authorizeUrl);
        // The background run is tied to the driver's lifetime, not to cancellationToken: the token only covers the
        // launch call, and the flow may dispose it as soon as this returns.
        var completion = Task.Run(() => RunAsync(authorizeUrl, script, LoginHint(authorizeUrl), _lifetime.Token));
        lock (_launchSlots)
        {
            var login = new LaunchedLogin(authorizeUrl, script, completion);
            LaunchSlot(_launched.Count).SetResult(login);
            _launched.Add(login);
        }

        return Task.FromResult(BrowserLaunchResult.Opened("chromium"));
    }

    /// <summary>
    /// A script selector for <see cref="LaunchAsync"/> that reads the authorize URL's <c>login_hint</c>: a hint that
    /// starts with a <see cref="LoginScript"/> name (case-insensitive, for example <c>cancelatconsent-7</c>) picks that
    /// script, anything else picks <paramref name="fallback"/>. Tests pass the hint as an extra authorize parameter,
    /// so one launcher serves every scenario; the hint also becomes the user name (and so the ID token's <c>sub</c>).
    /// </summary>
    public static Func<Uri, LoginScript> ScriptFromLoginHint(LoginScript fallback = LoginScript.Approve) => url =>
    {
        var hint = LoginHint(url);
        if (hint is null) return fallback;
        foreach (var script in Enum.GetValues<LoginScript>())
        {
            if (hint.StartsWith(script.ToString(), StringComparison.OrdinalIgnoreCase)) return script;
        }

        return fallback;
    };

    /// <summary>The <c>login_hint</c> of an authorize URL, if any.</summary>
    public static string? LoginHint(Uri authorizeUrl) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorizeUrl.Query).TryGetValue("login_hint", out var hint)
        && !string.IsNullOrEmpty(hint.ToString())
            ? hint.ToString()
            : null;

    /// <summary>Waits until <paramref name="count"/> logins were launched and all of them finished their scripts.</summary>
    /// <exception cref="TimeoutException">Fewer were launched, or they did not finish, within <paramref name="timeout"/>.</exception>
    public async Task<IReadOnlyList<LoginResult>> WaitForLaunchedLoginsAsync(int count, TimeSpan timeout)
    {
        Task<LaunchedLogin>[] slots;
        lock (_launchSlots)
            slots = Enumerable.Range(0, count).Select(i => LaunchSlot(i).Task).ToArray();

        async Task<LoginResult> Finished(Task<LaunchedLogin> slot) => await (await slot).Completion;
        try
        {
            return await Task.WhenAll(slots.Select(Finished)).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"{slots.Count(s => s.IsCompleted)} of {count} logins were launched, and not all finished, within {timeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>
    /// Opens <paramref name="authorizeUrl"/> in a new browser context and plays <paramref name="script"/>. Returns
    /// when the browser lands on the redirect target (any origin other than the provider's), fails to, or the
    /// script stops (<see cref="LoginScript.Abandon"/>). Never throws for browser errors: they are in
    /// <see cref="LoginResult.Error"/>.
    /// </summary>
    /// <param name="authorizeUrl">The provider's authorize URL.</param>
    /// <param name="script">What the user does.</param>
    /// <param name="username">The user name to type; default <c>user-N</c>, unique per driver (as a launcher: the URL's <c>login_hint</c> when it has one).</param>
    /// <param name="cancellationToken">Closes the context and ends the script.</param>
    public async Task<LoginResult> RunAsync(Uri authorizeUrl, LoginScript script, string? username = null, CancellationToken cancellationToken = default)
    {
        var context = await _browser.NewIsolatedContextAsync();
        await using var ownedContext = context;
        await using var cancel = cancellationToken.Register(() => _ = context.CloseAsync());
        return await RunInAsync(context, authorizeUrl, script, username, cancellationToken);
    }

    /// <summary>
    /// Like <see cref="RunAsync"/>, in a new page of <paramref name="context"/> (the caller's browser context, with its
    /// cookies: a test of which browser a login belongs to plays two users in two contexts). The context stays open.
    /// </summary>
    public async Task<LoginResult> RunInAsync(IBrowserContext context, Uri authorizeUrl, LoginScript script, string? username = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        username ??= $"user-{Interlocked.Increment(ref _userCounter)}";
        var landed = LeftProvider(authorizeUrl);
        var page = await NewPageAsync(context);
        await using var cancel = cancellationToken.Register(() => _ = page.CloseAsync());
        int? status = null;
        try
        {
            var response = await page.GotoAsync(authorizeUrl.ToString());
            status = response?.Status;
            if (landed(page.Url)) return await LandedAsync(page, status, script, username);

            var cancelLink = page.Locator("a", new PageLocatorOptions { HasText = "Cancel" });
            var signIn = page.Locator("input[name=login]");
            var consent = page.Locator("input[name=prompt][value=consent]");
            // A browser the provider already knows (its session cookie) goes straight to the consent page.
            await signIn.Or(consent).First.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
            if (await signIn.CountAsync() == 0)
            {
                if (script != LoginScript.Approve && script != LoginScript.CancelAtConsent)
                    return Stuck(page, script, username, "the provider skipped its sign-in page (a session already exists)") with { AskedToSignIn = false };
                var step = script == LoginScript.CancelAtConsent ? cancelLink : page.Locator("button[type=submit]");
                return (await StepAsync(page, step, landed, script, username)
                        ?? Stuck(page, script, username, "the provider did not redirect after the consent step")) with { AskedToSignIn = false };
            }

            switch (script)
            {
                case LoginScript.Abandon:
                    return new LoginResult(script, username, false, WithoutQuery(page.Url), status, null, null);
                case LoginScript.CancelAtLogin:
                    return await StepAsync(page, cancelLink, landed, script, username)
                           ?? Stuck(page, script, username, "the provider did not redirect after Cancel");
            }

            await page.Locator("input[name=login]").FillAsync(username);
            await page.Locator("input[name=password]").FillAsync("any-password");
            // After sign-in the provider shows the consent page, or redirects at once when consent was given before.
            if (await StepAsync(page, page.Locator("button[type=submit]"), landed, script, username) is { } early)
                return early;

            await page.Locator("input[name=prompt][value=consent]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
            var consentStep = script == LoginScript.CancelAtConsent ? cancelLink : page.Locator("button[type=submit]");
            return await StepAsync(page, consentStep, landed, script, username)
                   ?? Stuck(page, script, username, "the provider did not redirect after the consent step");
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            return BrowserError(page, script, username, status, e);
        }
    }

    /// <summary>
    /// Opens <paramref name="endSessionUrl"/> (the provider's end-session endpoint, OpenID Connect RP-Initiated Logout) in
    /// a new page of <paramref name="context"/> and confirms the provider's "sign me out" page; returns when the browser
    /// lands back at the app (the post-logout redirect URI), fails to, or stays at the provider.
    /// </summary>
    public async Task<LoginResult> SignOutInAsync(IBrowserContext context, Uri endSessionUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        const LoginScript script = LoginScript.ConfirmSignOut;
        var landed = LeftProvider(endSessionUrl);
        var page = await NewPageAsync(context);
        await using var cancel = cancellationToken.Register(() => _ = page.CloseAsync());
        int? status = null;
        try
        {
            var response = await page.GotoAsync(endSessionUrl.ToString());
            status = response?.Status;
            if (landed(page.Url)) return await LandedAsync(page, status, script, "");
            return await StepAsync(page, page.Locator("button[name=logout][value=yes]"), landed, script, "")
                   ?? Stuck(page, script, "", "the provider did not redirect after 'Yes, sign me out'");
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            return BrowserError(page, script, "", status, e);
        }
    }

    /// <summary>A new page of <paramref name="context"/> whose steps and navigations wait at most the driver's step timeout.</summary>
    private async Task<IPage> NewPageAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout((float)_stepTimeout.TotalMilliseconds);
        page.SetDefaultNavigationTimeout((float)_stepTimeout.TotalMilliseconds);
        return page;
    }

    /// <summary>Whether a URL is off the provider of <paramref name="providerUrl"/>: where the browser lands when it is sent back.</summary>
    private static Func<string, bool> LeftProvider(Uri providerUrl)
    {
        var provider = providerUrl.GetLeftPart(UriPartial.Authority);
        return url => !url.StartsWith(provider + "/", StringComparison.OrdinalIgnoreCase) && url != provider;
    }

    /// <summary>A script the browser could not finish: the navigation error, without any URL's query (it may hold a code).</summary>
    private static LoginResult BrowserError(IPage page, LoginScript script, string username, int? status, Exception e) =>
        new(script, username, false, WithoutQuery(page.Url), status, null, Sanitize(e.Message));

    /// <summary>
    /// Clicks <paramref name="target"/> and follows the navigation. Returns the result when the browser reached (or
    /// failed to reach) the redirect target, or null when it arrived at another provider page.
    /// </summary>
    private async Task<LoginResult?> StepAsync(IPage page, ILocator target, Func<string, bool> landed, LoginScript script, string username)
    {
        var before = page.Url;
        using var watcher = new LandingWatcher(page, landed);
        // Start waiting before the click: the click itself may wait for the navigation it causes, and a wait started
        // afterwards could miss it.
        var moved = page.WaitForURLAsync(url => url != before, new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit });
        var arrived = page.WaitForURLAsync(landed, new PageWaitForURLOptions { WaitUntil = WaitUntilState.Load });
        // Either may never complete (a step that stays at the provider; a failed landing): observe their faults.
        _ = moved.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        _ = arrived.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        await target.ClickAsync();
        if (await Task.WhenAny(watcher.Landing, moved) == moved)
        {
            await moved;
            if (!landed(page.Url)) return null;
        }

        var (status, error) = await watcher.Landing.WaitAsync(_stepTimeout);
        if (error is not null)
            return new LoginResult(script, username, false, WithoutQuery(page.Url), null, null, Sanitize(error));

        // The response headers arrived; wait until the landing page is the page's loaded document before reading it.
        await arrived;
        return await LandedAsync(page, status, script, username);
    }

    private static LoginResult Stuck(IPage page, LoginScript script, string username, string why) =>
        new(script, username, false, WithoutQuery(page.Url), null, null, why);

    /// <summary>
    /// Watches the page's main-frame navigations for the first one that leaves the provider: its response status,
    /// or its network error (for example an untrusted certificate).
    /// </summary>
    private sealed class LandingWatcher : IDisposable
    {
        private readonly IPage _page;
        private readonly Func<string, bool> _landed;
        private readonly TaskCompletionSource<(int? Status, string? Error)> _landing = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LandingWatcher(IPage page, Func<string, bool> landed)
        {
            _page = page;
            _landed = landed;
            page.Response += OnResponse;
            page.RequestFailed += OnRequestFailed;
        }

        public Task<(int? Status, string? Error)> Landing => _landing.Task;

        private void OnResponse(object? sender, IResponse response)
        {
            if (IsLandingNavigation(response.Request)) _landing.TrySetResult((response.Status, null));
        }

        private void OnRequestFailed(object? sender, IRequest request)
        {
            if (IsLandingNavigation(request)) _landing.TrySetResult((null, $"{request.Failure} at {request.Url}"));
        }

        private bool IsLandingNavigation(IRequest request) =>
            request.IsNavigationRequest && request.Frame == _page.MainFrame && _landed(request.Url);

        public void Dispose()
        {
            _page.Response -= OnResponse;
            _page.RequestFailed -= OnRequestFailed;
        }
    }

    /// <summary>The slot of the <paramref name="index"/>th launch (call under the lock).</summary>
    private TaskCompletionSource<LaunchedLogin> LaunchSlot(int index)
    {
        while (_launchSlots.Count <= index)
            _launchSlots.Add(new TaskCompletionSource<LaunchedLogin>(TaskCreationOptions.RunContinuationsAsynchronously));
        return _launchSlots[index];
    }

    private static async Task<LoginResult> LandedAsync(IPage page, int? status, LoginScript script, string username)
    {
        var text = await page.InnerTextAsync("body");
        return new LoginResult(script, username, true, WithoutQuery(page.Url), status, text, null);
    }

    private static string WithoutQuery(string url)
    {
        var cut = url.IndexOfAny(['?', '#']);
        return cut < 0 ? url : url[..cut];
    }

    /// <summary>Browser errors quote the URL; the redirect URL's query carries the authorization code.</summary>
    private static string Sanitize(string message) => QueryInUrl().Replace(message, "?…");

    [GeneratedRegex(@"\?[^\s""']*")]
    private static partial Regex QueryInUrl();

    /// <summary>Ends the background scripts (bounded wait) and stops launching.</summary>
    public async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync();
        try
        {
            await Task.WhenAll(Launches.Select(l => l.Completion)).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // A script stuck in the browser; the browser fixture closes it.
        }

        _lifetime.Dispose();
    }
}

/// <summary>One login the driver was asked to open as an <see cref="IBrowserLauncher"/>.</summary>
/// <param name="AuthorizeUrl">The authorize URL it was given (holds <c>state</c> and the PKCE challenge, no secret).</param>
/// <param name="Script">The script it plays.</param>
/// <param name="Completion">Completes with the browser's outcome.</param>
public sealed record LaunchedLogin(Uri AuthorizeUrl, LoginScript Script, Task<LoginResult> Completion);
