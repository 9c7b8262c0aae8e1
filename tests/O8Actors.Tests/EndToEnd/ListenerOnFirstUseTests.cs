using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using O8Actors.Configuration;
using O8Actors.Tests.Security;
using O8Actors.TestSupport;

namespace O8Actors.Tests.EndToEnd;

/// <summary>
/// <c>o8.listener.start = on-first-use</c> with standalone instances on one fixed loopback port (plain http, found free at
/// test time) against a real token endpoint: start binds nothing, the first browser login binds, a bind that meets a
/// taken port fails those logins as a start would and the next login binds again; with <c>while-needed</c> the port is
/// released once no login needs it, so two instances take turns on it.
/// </summary>
public sealed class ListenerOnFirstUseTests
{
    private const string Provider = "e2e";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<OAuthLogins> StartAsync(PkceAuthorizationServer server, int port, Action<OAuthLoginsSetup>? configure = null) =>
        OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Start = ListenerStart.OnFirstUse;
            setup.Options.Listener.Port = port;
            setup.Options.Listener.Scheme = "http";
            setup.Options.Listener.Host = "127.0.0.1";
            setup.Options.Listener.BindIPv6 = false;
            setup.Browser = new HttpClientBrowser();
            setup.Providers.Add(server.Strategy(Provider));
            configure?.Invoke(setup);
        });

    [Fact]
    public async Task Two_instances_on_one_fixed_port_both_start_and_the_first_browser_login_binds_and_succeeds()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        var port = FreePorts.Next();

        await using var first = await StartAsync(server, port);
        await using var second = await StartAsync(server, port);

        Assert.True(FreePorts.IsFree(port), "nothing is bound at start");
        var idle = await first.GetStatusAsync();
        Assert.False(idle.ListenerBound);
        Assert.Null(idle.RedirectUri);
        Assert.Null(idle.ListenerFailure);

        var succeeded = Assert.IsType<LoginSucceeded>(await first.RunAsync(Provider).WaitAsync(Wait));

        Assert.StartsWith("at-", succeeded.Tokens.AccessToken);
        var bound = await first.GetStatusAsync();
        Assert.True(bound.ListenerBound);
        Assert.Equal(new Uri($"http://127.0.0.1:{port}/"), bound.RedirectUri);
        Assert.False(FreePorts.IsFree(port));
        // The other instance asked for nothing that needs the listener.
        Assert.False((await second.GetStatusAsync()).ListenerBound);
    }

    [Fact]
    public async Task A_browser_login_while_another_instance_holds_the_port_fails_as_a_start_would_and_a_later_login_binds()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        var port = FreePorts.Next();
        var first = await StartAsync(server, port);
        await using var second = await StartAsync(server, port);
        try
        {
            // Asking for the redirect URI binds: its caller wants the real one, to register it.
            Assert.Equal(new Uri($"http://127.0.0.1:{port}/"), await first.GetRedirectUriAsync().WaitAsync(Wait));

            var failed = Assert.IsType<LoginFailed>(await second.RunAsync(Provider).WaitAsync(Wait));
            Assert.Equal(LoginFailure.ListenerUnavailable, failed.Failure);
            Assert.Equal(new ListenerPortInUseException(port, $"127.0.0.1:{port}", null).Message, failed.Reason);
            var thrown = await Assert.ThrowsAsync<ListenerPortInUseException>(() => second.AuthorizeAsync(Provider).WaitAsync(Wait));
            Assert.Equal(port, thrown.Port);
            Assert.NotNull(thrown.LoginId);
            Assert.Equal(failed.Reason, thrown.Message); // each login's own copy names the address too
            await Assert.ThrowsAsync<ListenerPortInUseException>(() => second.GetRedirectUriAsync(Provider).WaitAsync(Wait));
            var status = await second.GetStatusAsync();
            Assert.False(status.ListenerBound);
            Assert.IsType<ListenerPortInUseException>(status.ListenerFailure);
        }
        finally
        {
            await first.DisposeAsync();
        }

        // The port is free again: the next login binds it, without a restart.
        var succeeded = Assert.IsType<LoginSucceeded>(await second.RunAsync(Provider).WaitAsync(Wait));
        Assert.Equal(0, server.Rejected);
        Assert.StartsWith("at-", succeeded.Tokens.AccessToken);
        var bound = await second.GetStatusAsync();
        Assert.True(bound.ListenerBound);
        Assert.Null(bound.ListenerFailure);
    }

    [Fact]
    public async Task Many_concurrent_first_logins_bind_once_and_all_succeed()
    {
        const int logins = 40;
        await using var server = await PkceAuthorizationServer.StartAsync();
        var port = FreePorts.Next();
        var lines = new ConcurrentQueue<string>();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new CapturedLogs.Provider(lines)));
        await using var instance = await StartAsync(server, port, setup => setup.LoggerFactory = loggerFactory);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, logins).Select(_ => instance.RunAsync(Provider))).WaitAsync(Wait);

        Assert.All(outcomes, outcome => Assert.IsType<LoginSucceeded>(outcome));
        Assert.Equal(logins, server.TokensIssued);
        // Akka writes its log lines through its logger actor, after the logins' answers. Every bind began for a login
        // that has ended by now (and logged that it began), so once all lines logged so far are written, the count is final.
        await CapturedLogs.AllWrittenAsync(instance.System, lines);
        Assert.Single(lines, IsBoundLine);
        Assert.Single(lines, l => l.Contains("Callback listener binding on first use", StringComparison.Ordinal));
    }

    private static bool IsBoundLine(string line) => line.Contains("Callback listener bound on", StringComparison.Ordinal);

    [Fact]
    public async Task Without_a_certificate_start_succeeds_and_the_first_browser_login_fails_as_a_start_would()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        var port = FreePorts.Next();
        var folder = Path.Combine(Path.GetTempPath(), "o8-nocert-" + Guid.NewGuid().ToString("N"));
        await using var instance = await StartAsync(server, port, setup =>
        {
            setup.Options.Listener.Scheme = "https";
            setup.Options.Certificates = new CertificateOptions { Folder = folder, AutoCreate = false };
        });

        var thrown = await Assert.ThrowsAsync<CertificateNotFoundException>(() => instance.AuthorizeAsync(Provider).WaitAsync(Wait));

        Assert.Contains(Path.Combine(folder, "localhost.pem"), thrown.Message);
        Assert.NotNull(thrown.LoginId);
        var asked = await Assert.ThrowsAsync<CertificateNotFoundException>(() => instance.GetRedirectUriAsync().WaitAsync(Wait));
        Assert.Equal(thrown.Message, asked.Message);
        // Its own copy, not the listener's one instance that every waiting caller would throw (and the status holds).
        Assert.NotSame((await instance.GetStatusAsync()).ListenerFailure, asked);
        Assert.True(FreePorts.IsFree(port));
        Assert.False(Directory.Exists(folder), "looking for the certificate made no folder");
    }

    [Fact]
    public async Task Without_a_certificate_a_sign_out_ending_a_session_the_provider_cannot_end_binds_nothing_and_says_so()
    {
        // A provider with no end-session endpoint: the sign-out's browser step used to bind the listener before it asked
        // the provider, so here it reported the missing certificate instead of "not supported", after binding for nothing.
        await using var server = await PkceAuthorizationServer.StartAsync();
        var port = FreePorts.Next();
        var folder = Path.Combine(Path.GetTempPath(), "o8-nocert-" + Guid.NewGuid().ToString("N"));
        var store = new InMemoryTokenStore();
        var account = new OAuthAccount(Provider, "someone");
        await store.SaveAsync(account, new TokenSet("at-someone", "Bearer", DateTimeOffset.UtcNow.AddHours(1)), 0);
        await using var instance = await StartAsync(server, port, setup =>
        {
            setup.Options.Listener.Scheme = "https";
            setup.Options.Certificates = new CertificateOptions { Folder = folder, AutoCreate = false };
            setup.TokenStore = store;
        });

        var result = await instance.SignOutAsync(account, SignOutOptions.EndingProviderSession).WaitAsync(Wait);

        Assert.Equal(ProviderSessionOutcome.NotSupported, result.ProviderSession);
        Assert.Contains("end_session_endpoint", result.ProviderSessionReason);
        Assert.Null(await store.LoadAsync(account));
        var status = await instance.GetStatusAsync();
        Assert.False(status.ListenerBound);
        Assert.Null(status.ListenerFailure);
        Assert.True(FreePorts.IsFree(port));
    }

    [Fact]
    public async Task Two_instances_that_bind_while_needed_take_turns_on_one_fixed_port()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        var port = FreePorts.Next();
        // A short exchange timeout keeps the idle wait (exchange timeout + 5 s) short.
        void WhileNeeded(OAuthLoginsSetup setup)
        {
            setup.Options.Listener.Start = ListenerStart.WhileNeeded;
            setup.Options.Login.ExchangeTimeout = TimeSpan.FromSeconds(1);
        }

        await using var first = await StartAsync(server, port, WhileNeeded);
        await using var second = await StartAsync(server, port, WhileNeeded);

        Assert.IsType<LoginSucceeded>(await first.RunAsync(Provider).WaitAsync(Wait));
        Assert.False(FreePorts.IsFree(port));
        // With on-first-use the first instance would hold the port for its whole life, and the second's login would fail.
        await Eventually.TrueAsync(() => FreePorts.IsFree(port), "the first instance releases the port once no login needs it", Wait);
        Assert.False((await first.GetStatusAsync()).ListenerBound);

        Assert.IsType<LoginSucceeded>(await second.RunAsync(Provider).WaitAsync(Wait));
        Assert.Equal(new Uri($"http://127.0.0.1:{port}/"), (await second.GetStatusAsync()).RedirectUri);
    }
}
