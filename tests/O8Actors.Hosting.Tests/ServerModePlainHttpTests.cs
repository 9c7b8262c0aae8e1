using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// The browser-binding cookie is <c>Secure</c>, so a browser drops it when a login is begun from a plain-http page on any
/// host but localhost, and that login then ends as BrowserMismatch at its callback. The app is told why, once, when it
/// begins such a login; requests the browser treats as secure (https, localhost, loopback) say nothing.
/// </summary>
public sealed class ServerModePlainHttpTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private async Task<(WebApplication Web, FakeLogCollector Logs)> StartAppAsync(string systemName)
    {
        var builder = sandbox.ServerModeApp(systemName);
        builder.Logging.AddFakeLogging();
        var web = builder.Build();
        await web.StartAsync(TestContext.Current.CancellationToken);
        return (web, web.Services.GetFakeLogCollector());
    }

    /// <summary>A request as the app's endpoint would see it, for <paramref name="scheme"/>://<paramref name="host"/>.</summary>
    private static DefaultHttpContext Request(string scheme, string host) =>
        new() { Request = { Scheme = scheme, Host = new HostString(host), Method = "POST", Path = "/connect/sandbox" } };

    private static IReadOnlyList<FakeLogRecord> PlainHttpWarnings(FakeLogCollector logs) =>
        logs.GetSnapshot().Where(r => r.Level == LogLevel.Warning && r.Message.Contains("plain-http request", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task A_login_begun_over_plain_http_on_another_host_is_warned_about_once_and_still_sets_its_cookie()
    {
        var (web, logs) = await StartAppAsync("o8-plain-http");
        await using var _ = web;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var connector = web.Services.GetRequiredService<IOAuthConnector>();

        var first = Request("http", "app.example:8080");
        var login = await connector.BeginAsync(first, "sandbox", SandboxFixture.Hint("alice"), cancel.Token);
        await connector.BeginAsync(Request("http", "app.example:8080"), "sandbox", SandboxFixture.Hint("bob"), cancel.Token);

        var warning = Assert.Single(PlainHttpWarnings(logs));
        Assert.Contains("app.example", warning.Message, StringComparison.Ordinal);
        Assert.Contains("UseForwardedHeaders", warning.Message, StringComparison.Ordinal);
        // Only a warning: behind a proxy that ends TLS the browser saw https and keeps the cookie, so the login goes on.
        Assert.StartsWith($"__Host-o8-login-{login.LoginId}=", first.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
        cancel.Cancel();
        Assert.IsType<LoginCancelled>(await login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Logins_begun_over_https_or_from_localhost_or_loopback_are_not_warned_about()
    {
        var (web, logs) = await StartAppAsync("o8-secure-context");
        await using var _ = web;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var connector = web.Services.GetRequiredService<IOAuthConnector>();

        foreach (var (scheme, host) in new[] { ("https", "app.example"), ("http", "localhost:5000"), ("http", "127.0.0.1:5000"), ("http", "[::1]:5000") })
            await connector.BeginAsync(Request(scheme, host), "sandbox", SandboxFixture.Hint("alice"), cancel.Token);

        Assert.Empty(PlainHttpWarnings(logs));
        // The same app does warn about a plain-http login to another host: the silence above was the checks', not the log's.
        await connector.BeginAsync(Request("http", "app.example"), "sandbox", SandboxFixture.Hint("alice"), cancel.Token);
        Assert.Single(PlainHttpWarnings(logs));
        cancel.Cancel();
    }

    /// <summary>
    /// The binding cookie goes back only to the host that set it: a login begun on another host than the redirect URI's
    /// ends as BrowserMismatch, and its page blames another browser. The app is told why, once, with both hosts.
    /// </summary>
    [Fact]
    public async Task A_login_begun_on_another_host_than_the_redirect_uris_is_warned_about_once_naming_both()
    {
        var (web, logs) = await StartAppAsync("o8-other-host");
        await using var _ = web;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var connector = web.Services.GetRequiredService<IOAuthConnector>();
        var redirectHost = new Uri(web.Configuration["O8:Listener:ExternalRedirectUri"]!).Host;

        // The redirect URI's own host, in another case: the same host, no warning.
        await connector.BeginAsync(Request("https", redirectHost.ToUpperInvariant()), "sandbox", SandboxFixture.Hint("alice"), cancel.Token);
        Assert.Empty(OtherHostWarnings(logs));

        await connector.BeginAsync(Request("https", "www.app.example"), "sandbox", SandboxFixture.Hint("alice"), cancel.Token);
        await connector.BeginAsync(Request("https", "www.app.example"), "sandbox", SandboxFixture.Hint("bob"), cancel.Token);

        var warning = Assert.Single(OtherHostWarnings(logs));
        Assert.Contains("www.app.example", warning.Message, StringComparison.Ordinal);
        Assert.Contains(redirectHost, warning.Message, StringComparison.Ordinal);
        cancel.Cancel();
    }

    /// <summary>
    /// Behind a proxy that rewrites Host to its upstream's (YARP's and nginx's defaults, WebConnect's cluster mode), the
    /// browser's host is in X-Forwarded-Host: a login the browser began on the redirect URI's host is not warned about as
    /// begun on another host (the warning named the upstream's address and the wrong fix).
    /// </summary>
    [Fact]
    public async Task A_login_through_a_proxy_that_rewrites_Host_is_judged_by_the_forwarded_host()
    {
        var (web, logs) = await StartAppAsync("o8-proxied-host");
        await using var _ = web;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var connector = web.Services.GetRequiredService<IOAuthConnector>();
        var redirectHost = new Uri(web.Configuration["O8:Listener:ExternalRedirectUri"]!).Host;
        var proxied = Request("https", "10.0.0.5:8080");
        proxied.Request.Headers["X-Forwarded-Host"] = $"{redirectHost}:443, proxy.internal";

        await connector.BeginAsync(proxied, "sandbox", SandboxFixture.Hint("alice"), cancel.Token);

        Assert.Empty(OtherHostWarnings(logs));
        // A browser that came in on another host through the proxy is still warned about, by that host.
        var other = Request("https", "10.0.0.5:8080");
        other.Request.Headers["X-Forwarded-Host"] = "www.app.example";
        await connector.BeginAsync(other, "sandbox", SandboxFixture.Hint("bob"), cancel.Token);
        Assert.Contains("www.app.example", Assert.Single(OtherHostWarnings(logs)).Message, StringComparison.Ordinal);
        cancel.Cancel();
    }

    /// <summary>
    /// A request whose method is Auto (the one an app's CLI uses, say) is a browser login in server mode, the user's
    /// browser at hand: it was refused as if it had no authorize URL. A device login still is.
    /// </summary>
    [Fact]
    public async Task BeginAsync_takes_an_Auto_login_as_a_browser_login_and_refuses_a_device_login()
    {
        var (web, _) = await StartAppAsync("o8-auto-begin");
        await using var _ = web;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var connector = web.Services.GetRequiredService<IOAuthConnector>();
        var host = new Uri(web.Configuration["O8:Listener:ExternalRedirectUri"]!).Host;

        var auto = await connector.BeginAsync(Request("https", host), "sandbox", SandboxFixture.Hint("erin") with { Method = LoginMethod.Auto }, cancel.Token);

        Assert.Equal("erin", QueryHelpers.ParseQuery(auto.AuthorizeUrl.Query)["login_hint"]);
        Assert.False(auto.Outcome.IsCompleted); // waiting for the user's browser
        var device = SandboxFixture.Hint("erin") with { Method = LoginMethod.Device };
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => connector.BeginAsync(Request("https", host), "sandbox", device, cancel.Token));
        Assert.Contains("Device login has no authorize URL", refused.Message, StringComparison.Ordinal);
        cancel.Cancel();
    }

    private static IReadOnlyList<FakeLogRecord> OtherHostWarnings(FakeLogCollector logs) =>
        logs.GetSnapshot().Where(r => r.Level == LogLevel.Warning && r.Message.Contains("but the callback goes to", StringComparison.Ordinal)).ToList();

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("app.localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("[::1]", true)]
    [InlineData("app.example", false)]
    [InlineData("localhost.example", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("[2001:db8::1]", false)]
    [InlineData("", false)]
    public void Only_localhost_and_loopback_addresses_count_as_secure_over_plain_http(string host, bool loopback) =>
        Assert.Equal(loopback, HostedOAuthLogins.IsLoopbackHost(host));
}
