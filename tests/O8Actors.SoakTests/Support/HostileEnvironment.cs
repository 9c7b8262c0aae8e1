using O8Actors.TestKit;

namespace O8Actors.SoakTests.Support;

/// <summary>
/// An orchestrator behind its HTTPS loopback listener (development-CA certificate, free port) with a held browser, a
/// raw HTTP client for hostile requests and a set of live logins already approved at the sandbox and waiting for
/// their browser to come back.
/// </summary>
internal sealed class HostileEnvironment : IAsyncDisposable
{
    private readonly HttpClient _authorizationServer = PendingLogin.AuthorizationServerClient();
    private int _subjects;

    private HostileEnvironment(O8TestHarness o8, HeldBrowser browser, CapturedLogs logs)
    {
        O8 = o8;
        Browser = browser;
        Logs = logs;
        Listener = new RawHttp(o8.RedirectUri.Port, o8.TrustedRoot);
    }

    public O8TestHarness O8 { get; }

    public HeldBrowser Browser { get; }

    public CapturedLogs Logs { get; }

    public RawHttp Listener { get; }

    /// <summary>The sandbox provider's redirect path (<c>/oauth/callback/sandbox</c>).</summary>
    public string CallbackPath => O8.RedirectUri.AbsolutePath;

    /// <summary>The listener's callback path (<c>/oauth/callback</c>), under which every provider has its own.</summary>
    public const string CallbackRoot = "/oauth/callback";

    public IReadOnlyList<PendingLogin> Live { get; private set; } = [];

    public static async Task<HostileEnvironment> StartAsync(int liveLogins, bool plainHttp = false)
    {
        var browser = new HeldBrowser();
        var logs = new CapturedLogs();
        var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.Browser = browser;
            o.PlainHttp = plainHttp;
            o.LoginTimeout = TimeSpan.FromMinutes(2);
            o.ConfigureLogins = setup =>
            {
                setup.LoggerFactory = logs.CreateFactory();
                // A path with letters, so case and prefix variants of it are real hostile inputs.
                setup.Options.Listener.Path = CallbackRoot;
            };
        });
        var environment = new HostileEnvironment(o8, browser, logs);
        try
        {
            environment.Live = await Task.WhenAll(Enumerable.Range(0, liveLogins).Select(_ => environment.StartLoginAsync()));
            return environment;
        }
        catch
        {
            await environment.DisposeAsync();
            throw;
        }
    }

    /// <summary>One more login, approved at the sandbox and held before its callback.</summary>
    public Task<PendingLogin> StartLoginAsync(TimeSpan? timeout = null) =>
        PendingLogin.StartAsync(O8, Browser, _authorizationServer, $"user-{Interlocked.Increment(ref _subjects)}", timeout);

    /// <summary>Logins the supervisor still counts as in flight.</summary>
    public async Task<int> InFlightAsync() => (await O8.Logins.GetStatusAsync()).LoginsInFlight;

    /// <summary>No live login has ended yet (none was completed, failed or cancelled by a request it did not own).</summary>
    public void AssertLiveUndisturbed()
    {
        var ended = Live.Where(l => l.Outcome.IsCompleted).Select(l => l.Subject).ToArray();
        Assert.True(ended.Length == 0, $"Live logins ended early: {string.Join(", ", ended)}");
    }

    /// <summary>Every live login's browser comes back now: each gets the success page and its own tokens.</summary>
    public async Task CompleteLiveAsync()
    {
        var landings = await Task.WhenAll(Live.Select(l => l.LandAsync(Listener)));
        for (var i = 0; i < Live.Count; i++)
        {
            Assert.True(landings[i].Status == 200, $"{Live[i].Subject}: {landings[i]}");
            Assert.Contains("You are signed in", landings[i].Body);
            var outcome = await Live[i].Outcome.WaitAsync(TimeSpan.FromSeconds(30));
            var succeeded = Assert.IsType<LoginSucceeded>(outcome);
            Assert.Equal(Live[i].Subject, PendingLogin.SubjectOf(succeeded.Tokens.IdToken));
            Assert.True(O8.Sandbox.IsActive(succeeded.Tokens.AccessToken));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _authorizationServer.Dispose();
        await O8.DisposeAsync();
    }
}
