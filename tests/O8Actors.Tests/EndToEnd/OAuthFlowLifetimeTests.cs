using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using O8Actors.Callback;
using O8Actors.Tests.Support;
using Xunit.Abstractions;

namespace O8Actors.Tests.EndToEnd;

/// <summary>
/// What an <see cref="OAuthFlow"/> leaves behind on the process-wide orchestrator: without a cache name, nothing on disk
/// and nothing once disposed.
/// </summary>
[Collection(SharedOAuthFlowRuntime.Collection)]
public sealed class OAuthFlowLifetimeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _tokens = Path.Combine(Path.GetTempPath(), "o8-oauthflow-" + Guid.NewGuid().ToString("N"));
    private readonly int _port = CallbackListenerHost.FindFreePort(ipv6: false);
    private PkceAuthorizationServer _server = null!;

    /// <summary>The original's way, on the process-wide orchestrator (no <c>logins</c>).</summary>
    private sealed class ConsoleFlow(int port, string tokenEndpoint, string authorizeEndpoint, string? cacheName, IOAuthLogins? logins = null)
        : OAuthFlow(PkceAuthorizationServer.ClientId, PkceAuthorizationServer.ClientSecret, "identify", port, logins)
    {
        /// <summary>Set: each exchange says it started, then waits for this gate before it posts the code.</summary>
        public TaskCompletionSource? ExchangeGate { get; init; }

        public TaskCompletionSource ExchangeStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The exchange waits for <see cref="ExchangeGate"/> even when cancelled (a provider that answers late).</summary>
        public bool GateIgnoresCancel { get; init; }

        protected override string? CacheName => cacheName;

        protected override string AuthUrl =>
            $"{authorizeEndpoint}?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}&response_type=code&scope={Uri.EscapeDataString(UserScopes)}";

        protected override void OnWaitingForSignIn(Uri authorizeUrl) { }

        protected override async Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken)
        {
            ExchangeStarted.TrySetResult();
            if (ExchangeGate is { } gate) await (GateIgnoresCancel ? gate.Task : gate.Task.WaitAsync(cancellationToken));
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUrl, ["code_verifier"] = context.CodeVerifier!,
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}")));
            using var response = await context.Http.SendAsync(request, cancellationToken);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (!response.IsSuccessStatusCode) throw new TokenExchangeException("refused");
            return json.RootElement.GetProperty("access_token").GetString()!;
        }
    }

    public async Task InitializeAsync()
    {
        _server = await PkceAuthorizationServer.StartAsync();
        var port = _port;
        OAuthFlow.ConfigureShared = (p, setup) =>
        {
            if (p != port) return;
            setup.Options.Listener.Scheme = "http";
            setup.Options.Listener.BindIPv6 = false;
            setup.Options.Listener.Host = "127.0.0.1";
            setup.Browser = new HttpClientBrowser();
            setup.LoggerFactory = TestOutputLogging.Factory(output);
            // The store the shared runtime uses, in a folder of this test's own.
            setup.TokenStore = new FileTokenStore(_tokens);
        };
    }

    public async Task DisposeAsync()
    {
        await OAuthFlow.ShutdownSharedAsync();
        OAuthFlow.ConfigureShared = null;
        await _server.DisposeAsync();
        if (Directory.Exists(_tokens)) Directory.Delete(_tokens, recursive: true);
    }

    private ConsoleFlow Flow(string? cacheName = null) => new(_port, _server.BaseUrl + "/token", _server.BaseUrl + "/authorize", cacheName);

    /// <summary>An app's own orchestrator on the user's file store in this test's folder (as a hosted <c>AddOAuthFlow</c> has).</summary>
    private Task<OAuthLogins> OwnOrchestratorAsync() => OAuthLogins.StartAsync(setup =>
    {
        setup.Options.Listener.Scheme = "http";
        setup.Options.Listener.Port = 0;
        setup.Options.Listener.BindIPv6 = false;
        setup.Options.Listener.Host = "127.0.0.1";
        setup.Browser = new HttpClientBrowser();
        setup.LoggerFactory = TestOutputLogging.Factory(output);
        setup.TokenStore = new FileTokenStore(_tokens);
    });

    /// <summary>Everything in the store's folder: token files, their lock files, the key ring.</summary>
    private string[] OnDisk() => Directory.Exists(_tokens) ? Directory.GetFileSystemEntries(_tokens, "*", SearchOption.AllDirectories) : [];

    /// <summary>The encrypted token files in the store's folder.</summary>
    private string[] TokenFiles() => Directory.Exists(_tokens) ? Directory.GetFiles(_tokens, "*.token") : [];

    [Fact]
    public async Task A_login_of_a_flow_without_a_cache_name_writes_no_file_and_is_forgotten_when_the_flow_is_disposed()
    {
        var flow = Flow();
        var token = await flow.AuthorizeAsync(timeoutSeconds: 30);

        // Kept for this instance: a second call is answered from memory.
        Assert.Equal(token, await flow.AuthorizeAsync(timeoutSeconds: 30));
        Assert.Empty(OnDisk());

        // The same store takes a named flow's tokens to disk: the folder is the one in use.
        await using (var named = Flow(cacheName: "lifetime-test"))
        {
            await named.AuthorizeAsync(timeoutSeconds: 30);
            Assert.Single(TokenFiles());
            await named.SignOutAsync();
        }

        var provider = flow.Account.Provider;
        IOAuthLogins logins = await OAuthFlow.SharedRuntime(_port); // the one the flow started
        Assert.Equal([flow.Account], await logins.GetAccountsAsync(provider));

        await flow.DisposeAsync();

        Assert.Empty(await logins.GetAccountsAsync(provider));
        await Assert.ThrowsAsync<UnknownProviderException>(() => logins.GetRedirectUriAsync(provider));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => flow.AuthorizeAsync(timeoutSeconds: 30));
        Assert.Empty(TokenFiles());
    }

    /// <summary>
    /// A second copy of a CLI while the first holds the port for its browser login (another terminal, <c>xargs -P</c>):
    /// the shared orchestrator bound the port at its start, whatever the call, so the copy failed on the port in use
    /// although its token was stored. It binds only while a browser login needs it now.
    /// </summary>
    [Fact]
    public async Task A_stored_token_is_served_while_another_process_holds_the_port()
    {
        string token;
        await using (var first = Flow(cacheName: "held-port-test"))
            token = await first.AuthorizeAsync(timeoutSeconds: 30);
        await OAuthFlow.ShutdownSharedAsync();
        using var otherProcess = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, _port);
        otherProcess.Start();

        await using var second = Flow(cacheName: "held-port-test");

        Assert.Equal(token, await second.AuthorizeAsync(timeoutSeconds: 30));
        IOAuthLogins shared = await OAuthFlow.SharedRuntime(_port);
        Assert.False((await shared.GetStatusAsync()).ListenerBound);
    }

    [Theory]
    [InlineData("AuthorizeForTokensAsync")]
    [InlineData("GetAccessTokenAsync")] // the login runs in the account's actor, for the caller
    public async Task A_flow_without_a_cache_name_disposed_while_its_code_is_exchanged_writes_no_file_and_forgets_the_late_tokens(string call)
    {
        await using var logins = await OwnOrchestratorAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flow = new ConsoleFlow(_port, _server.BaseUrl + "/token", _server.BaseUrl + "/authorize", cacheName: null, logins) { ExchangeGate = gate };
        var provider = flow.Account.Provider;

        Task login = call == "GetAccessTokenAsync"
            ? flow.GetAccessTokenAsync(allowInteraction: true, timeout: TimeSpan.FromSeconds(30))
            : flow.AuthorizeForTokensAsync(TimeSpan.FromSeconds(30));
        await flow.ExchangeStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        // Disposed while the code is at the provider; the exchange then finishes and its login's tokens are stored.
        var disposing = flow.DisposeAsync().AsTask();
        gate.SetResult();
        await Task.WhenAll(disposing, login.ContinueWith(_ => { }, TaskScheduler.Default)).WaitAsync(TimeSpan.FromSeconds(30));

        // Not on disk under a name no later run knows, and not kept in memory either.
        Assert.Empty(TokenFiles());
        Assert.Empty(await logins.GetAccountsAsync(provider));
    }

    /// <summary>
    /// A call while ShutdownSharedAsync still stops the runtime (a login's code at the provider, waited for): it started a
    /// fresh runtime on the port the stopping one still held, and failed with "port already in use, stop the other process".
    /// </summary>
    [Fact]
    public async Task A_call_while_the_shared_runtime_stops_waits_for_the_stop_and_starts_a_fresh_one_on_the_port()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var exchanging = new ConsoleFlow(_port, _server.BaseUrl + "/token", _server.BaseUrl + "/authorize", cacheName: null)
        {
            ExchangeGate = gate,
            GateIgnoresCancel = true,
        };
        await using var other = Flow();
        var login = exchanging.AuthorizeForTokensAsync(TimeSpan.FromSeconds(30));
        await exchanging.ExchangeStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var shutdown = OAuthFlow.ShutdownSharedAsync(); // waits for the exchange under way before it releases the port
        var call = other.GetAccessTokenAsync(allowInteraction: false);
        // While the stop waits, the call waits for it too (it failed at once for the port the stopping runtime held).
        await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(2)));
        Assert.False(call.IsCompleted, $"the call ended while the runtime still stopped: {call.Exception?.InnerException?.GetType().Name}");
        gate.SetResult();
        await shutdown.WaitAsync(TimeSpan.FromSeconds(30));

        // Answered by a fresh runtime on the port (nothing cached there yet), not refused for the port.
        var error = await Assert.ThrowsAsync<InteractionRequiredException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(InteractionReason.NoAccount, error.Reason);
        await login.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_flow_without_a_cache_name_on_an_apps_own_orchestrator_with_a_file_store_writes_no_file_either()
    {
        // As a hosted AddOAuthFlow, or an app that starts its own OAuthLogins on the user's file store, hands it one.
        await using var logins = await OwnOrchestratorAsync();
        await using var flow = new ConsoleFlow(_port, _server.BaseUrl + "/token", _server.BaseUrl + "/authorize", cacheName: null, logins);

        var token = await flow.AuthorizeAsync(timeoutSeconds: 30);

        Assert.Equal(token, await flow.AuthorizeAsync(timeoutSeconds: 30));
        Assert.Empty(TokenFiles());
        // The same store takes a named flow's tokens to disk.
        await using var named = new ConsoleFlow(_port, _server.BaseUrl + "/token", _server.BaseUrl + "/authorize", "lifetime-own", logins);
        await named.AuthorizeAsync(timeoutSeconds: 30);
        Assert.Single(TokenFiles());
        await named.SignOutAsync();
    }
}

/// <summary>Tests that set <see cref="OAuthFlow.ConfigureShared"/> (one static) run one at a time.</summary>
internal static class SharedOAuthFlowRuntime
{
    public const string Collection = "OAuthFlow.ConfigureShared";
}
