using Akka.Configuration;
using O8Actors.Configuration;
using O8Actors.Tests.Flows;
using O8Actors.Tests.Providers;

using Xunit.Abstractions;

namespace O8Actors.Tests.Lifecycle;

/// <summary>Settings are layered, checked and frozen at start; what the caller does with its objects later changes nothing.</summary>
public sealed class SettingsAtStartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Setup_Hocon_settings_are_used_and_settings_changed_in_code_win()
    {
        await using var flows = await OAuthLogins.StartAsync(setup =>
        {
            setup.Hocon = ConfigurationFactory.ParseString("o8.listener { scheme = http, port = 0, path = \"/from-hocon\" }\no8.login.timeout = 7s");
            setup.Options.Listener.Path = "/from-code";
            setup.Browser = new RecordingBrowser();
        });

        var redirect = await flows.GetRedirectUriAsync();

        Assert.Equal("http", redirect.Scheme);
        Assert.NotEqual(41539, redirect.Port);
        Assert.Equal("/from-code", redirect.AbsolutePath);
        Assert.Equal(TimeSpan.FromSeconds(7), flows.Options.Login.Timeout);
    }

    [Theory]
    [InlineData(null, 64)]
    [InlineData("akka.scheduler.ticks-per-wheel = 256", 256)]
    public async Task The_timer_wheel_turns_in_well_under_a_second_unless_the_app_sets_its_own(string? hocon, int expected)
    {
        // A cancelled timer keeps its ended login's actor cell reachable until the wheel comes round (hocon/o8.conf).
        await using var flows = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Scheme = "http";
            setup.Options.Listener.Port = 0;
            setup.Browser = new RecordingBrowser();
            if (hocon is not null) setup.Hocon = ConfigurationFactory.ParseString(hocon);
        });

        var config = flows.System.Settings.Config;
        Assert.Equal(expected, config.GetInt("akka.scheduler.ticks-per-wheel"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), config.GetTimeSpan("akka.scheduler.tick-duration"));
    }

    [Fact]
    public async Task An_unknown_o8_key_in_setup_Hocon_fails_the_start_suggesting_the_setting()
    {
        var error = await Assert.ThrowsAsync<O8ConfigurationException>(() => OAuthLogins.StartAsync(setup =>
            setup.Hocon = ConfigurationFactory.ParseString("o8.listener.prot = 0")));

        Assert.Equal("o8.listener.prot", error.HoconKey);
        Assert.Equal("O8:Listener:Prot", error.ConfigurationKey);
        Assert.Contains("did you mean 'o8.listener.port'", error.Message);
    }

    [Fact]
    public async Task Changing_the_options_object_after_start_changes_no_login()
    {
        var browser = new RecordingBrowser();
        var options = new O8Options();
        options.Listener.Port = 0;
        options.Listener.Scheme = "http";
        await using var started = await LoginsTestSupport.StartAsync(browser, setup => setup.Options = options, output: output);
        options.Login.Pkce = false;
        options.Login.Timeout = TimeSpan.FromMilliseconds(1);

        var url = LoginsTestSupport.NextAuthorizeUrl(started, out var subscription);
        using var _ = subscription;
        using var cancel = new CancellationTokenSource();
        var login = started.RunAsync(LoginsTestSupport.Provider, cancellationToken: cancel.Token);
        var query = ProviderTestData.Query(await url);

        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.True(started.Options.Login.Pkce);
        Assert.False(login.IsCompleted); // not ended by the 1 ms timeout set after start
        await cancel.CancelAsync();
        Assert.IsType<LoginCancelled>(await login.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_caller_changing_its_scope_list_after_the_call_does_not_change_the_running_login()
    {
        var browser = new RecordingBrowser();
        await using var flows = await LoginsTestSupport.StartAsync(browser, output: output);
        var scopes = new List<string> { "read" };
        var extra = new Dictionary<string, string> { ["login_hint"] = "alice" };

        var url = LoginsTestSupport.NextAuthorizeUrl(flows, out var subscription);
        using var _ = subscription;
        using var cancel = new CancellationTokenSource();
        var login = flows.RunAsync(LoginsTestSupport.Provider, new AuthorizationRequest(scopes, TimeSpan.FromMinutes(1), extra), cancel.Token);
        scopes.Add("admin");
        extra["login_hint"] = "mallory";
        var query = ProviderTestData.Query(await url);

        Assert.Equal("read", query["scope"]);
        Assert.Equal("alice", query["login_hint"]);
        await cancel.CancelAsync();
        await login.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_unknown_provider_is_UnknownProviderException_from_AuthorizeAsync_and_RefreshAsync()
    {
        await using var flows = await LoginsTestSupport.StartAsync(new RecordingBrowser(), output: output);

        var fromLogin = await Assert.ThrowsAsync<UnknownProviderException>(() => flows.AuthorizeAsync("nobody"));
        var fromRefresh = await Assert.ThrowsAsync<UnknownProviderException>(() => flows.RefreshAsync("nobody", "refresh-token"));

        Assert.Equal("nobody", fromLogin.Provider);
        Assert.NotNull(fromLogin.LoginId);
        Assert.Equal("nobody", fromRefresh.Provider);
        var outcome = Assert.IsType<LoginFailed>(await flows.RunAsync("nobody"));
        Assert.Equal(LoginFailure.UnknownProvider, outcome.Failure);
    }
}
