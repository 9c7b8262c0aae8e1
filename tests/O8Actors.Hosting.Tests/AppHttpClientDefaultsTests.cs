using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// An app whose HTTP client defaults carry a resilience handler (what .NET Aspire's service defaults register) and a
/// handler of its own: neither reaches the providers' client, so a failed token request is not sent again and the app's
/// handler never sees one.
/// </summary>
public sealed class AppHttpClientDefaultsTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly ScriptedBrowser _browser = new();
    private readonly RequestCounter _appHandlerSaw = new();
    private IHost _host = null!;

    private IOAuthLogins Logins => _host.Services.GetRequiredService<IOAuthLogins>();

    public async ValueTask InitializeAsync() =>
        _host = await HostedO8.StartWithSandboxAsync(sandbox, _browser, "o8-app-defaults", services: services =>
            services.ConfigureHttpClientDefaults(http =>
            {
                http.AddStandardResilienceHandler();
                http.AddHttpMessageHandler(() => new CountingHandler(_appHandlerSaw));
            }));

    public async ValueTask DisposeAsync()
    {
        sandbox.Server.TokenFaults = null;
        await _host.StopAsync();
        _host.Dispose();
        await _browser.DisposeAsync();
    }

    [Fact]
    public async Task A_refresh_answered_503_is_sent_once_and_fails_and_the_apps_default_handler_sees_no_token_request()
    {
        var ct = TestContext.Current.CancellationToken;
        var signedIn = Assert.IsType<LoginSucceeded>(await Logins.RunAsync("sandbox", SandboxFixture.Hint("alice"), ct).WaitAsync(Wait, ct));
        var refreshToken = signedIn.Tokens.RefreshToken!;
        var struck = 0;
        // The first token request from now on gets a 503, any later one would be answered with tokens.
        sandbox.Server.TokenFaults = TokenFaultPlan.PerLogin(_ => Interlocked.Exchange(ref struck, 1) == 0 ? TokenFault.ServerError(503) : null);
        var requestsBefore = sandbox.Server.Counters.TokenRequests;

        await Assert.ThrowsAsync<TokenExchangeException>(() => Logins.RefreshAsync("sandbox", refreshToken, cancellationToken: ct).WaitAsync(Wait, ct));

        Assert.Equal(1, sandbox.Server.Counters.TokenRequests - requestsBefore);
        Assert.True(sandbox.Server.IsRefreshTokenActive(refreshToken), "a refresh token that was sent once and refused is still unspent");
        Assert.Equal(0, _appHandlerSaw.Count);
    }

    private sealed class RequestCounter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }

    /// <summary>A handler of the app's own for every client (one that logs or adds headers): counts what passes it.</summary>
    private sealed class CountingHandler(RequestCounter counter) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counter.Add();
            return base.SendAsync(request, cancellationToken);
        }
    }
}
