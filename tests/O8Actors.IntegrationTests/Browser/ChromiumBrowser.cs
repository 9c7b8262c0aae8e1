using System.Collections;
using Microsoft.Playwright;
using O8Actors.IntegrationTests.Infrastructure;

namespace O8Actors.IntegrationTests.Browser;

/// <summary>
/// Debian's Chromium, headless, driven by Microsoft.Playwright's node driver (shipped in the NuGet package).
/// Nothing here downloads a browser: the executable is the system's <c>chromium</c>.
/// </summary>
/// <remarks>
/// One instance per test class (launching Chromium costs about a second); each login gets its own
/// <see cref="IBrowserContext"/> from <see cref="NewIsolatedContextAsync"/>, which shares no cookies with the others
/// and can reach loopback hosts only.
/// </remarks>
public sealed class ChromiumBrowser : IAsyncLifetime, IAsyncDisposable
{
    private static readonly string[] Arguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly string? _home;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private int _blockedRequests;

    /// <summary>A browser that uses the real <c>$HOME</c> (and so the NSS database where mkcert put its CA).</summary>
    public ChromiumBrowser() : this(null) { }

    /// <summary>A browser whose <c>HOME</c> is <paramref name="home"/>, or the real one when null.</summary>
    public ChromiumBrowser(string? home)
    {
        _home = home;
    }

    /// <summary>Launches a browser with <c>HOME</c> set to <paramref name="home"/> (null: the real home).</summary>
    public static async Task<ChromiumBrowser> LaunchAsync(string? home = null)
    {
        var browser = new ChromiumBrowser(home);
        try
        {
            await browser.StartAsync();
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>The Chromium executable: <c>/usr/bin/chromium</c>, else <c>chromium</c> or <c>chromium-browser</c> on PATH.</summary>
    public static string ExecutablePath =>
        ExecutableLocator.Require("Install Chromium (Debian: apt-get install chromium); the tests never download a browser.",
            "/usr/bin/chromium", "chromium", "chromium-browser");

    /// <summary>The running browser.</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium has not been launched.");

    /// <summary>How many requests to non-loopback hosts were aborted so far (the provider's pages ask for web fonts).</summary>
    public int BlockedRequests => Volatile.Read(ref _blockedRequests);

    /// <inheritdoc />
    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    /// <inheritdoc />
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    /// <summary>
    /// A fresh context (own cookies, own storage) whose requests to any host but <c>localhost</c>, <c>127.0.0.1</c>
    /// and <c>[::1]</c> are aborted: a test must never need the internet, and must not wait for it either.
    /// </summary>
    public async Task<IBrowserContext> NewIsolatedContextAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = false });
        await context.RouteAsync(url => !IsLoopbackUrl(url), async route =>
        {
            Interlocked.Increment(ref _blockedRequests);
            await route.AbortAsync("blockedbyclient");
        });
        return context;
    }

    /// <summary>Whether <paramref name="url"/> points at a loopback host.</summary>
    public static bool IsLoopbackUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Host is "localhost" or "127.0.0.1" or "[::1]";

    private async Task StartAsync()
    {
        _playwright = await Playwright.CreateAsync();
        var options = new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = Arguments,
            Timeout = 60_000, // a loaded CI machine can take a while to start a browser
        };
        if (_home is not null)
            options.Env = EnvironmentWithHome(_home);
        _browser = await _playwright.Chromium.LaunchAsync(options);
    }

    private static Dictionary<string, string> EnvironmentWithHome(string home)
    {
        // Playwright's Env replaces the whole environment, so copy it and change HOME only.
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            env[(string)entry.Key] = (string?)entry.Value ?? "";
        var realHome = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        env["HOME"] = home;
        // Only the NSS database ($HOME/.pki/nssdb) should move. Keep the caches where they were: a fresh fontconfig
        // cache costs Chromium about ten seconds to build.
        env.TryAdd("XDG_CACHE_HOME", Path.Combine(realHome, ".cache"));
        env.TryAdd("XDG_CONFIG_HOME", Path.Combine(realHome, ".config"));
        return env;
    }

    /// <summary>Closes Chromium and the Playwright driver.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
            _browser = null;
        }

        _playwright?.Dispose();
        _playwright = null;
    }
}
