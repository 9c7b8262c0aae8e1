using System.Net;
using System.Security.Cryptography.X509Certificates;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Browser;

public sealed class ScriptedBrowserTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly DevelopmentCertificateAuthority _ca = DevelopmentCertificateAuthority.Create();
    private X509Certificate2 _certificate = null!;
    private CallbackListener _listener = null!;
    private SandboxAuthorizationServer _server = null!;
    private string _redirectUri = null!;

    public async Task InitializeAsync()
    {
        _certificate = _ca.IssueServerCertificate();
        _listener = await CallbackListener.StartAsync(_certificate);
        _redirectUri = _listener.Url("/callback").AbsoluteUri;
        _server = await SandboxAuthorizationServer.StartAsync(new SandboxOptions
        {
            Clients = { new SandboxClient("app", null, [_redirectUri], ClientAuthMethod.None) },
        });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _listener.DisposeAsync();
        _certificate.Dispose();
        _ca.Dispose();
    }

    [Fact]
    public async Task Approve_lands_on_the_https_callback_with_the_code_on_a_fresh_connection_each_time()
    {
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = _ca.RootCertificate });

        for (var i = 0; i < 3; i++)
        {
            var launched = await browser.LaunchAsync(AuthorizeUrl($"state-{i}"), CancellationToken.None);
            Assert.True(launched.Launched);
            Assert.Equal("scripted", launched.Detail);
        }

        await browser.WhenAllCompletedAsync().WaitAsync(Wait);
        foreach (var visit in browser.Visits)
        {
            var result = visit.Result!;
            Assert.Equal(ScriptedVisitOutcome.Landed, result.Outcome);
            Assert.Equal(302, result.AuthorizeStatus);
            Assert.Equal(200, result.LandingStatus);
            Assert.Contains("landed", result.LandingBody);
            Assert.False(string.IsNullOrEmpty(result.CallbackParameter("code")));
            Assert.Equal($"state-{visit.Index}", result.CallbackParameter("state"));
            Assert.Equal(_server.IssuerString, result.CallbackParameter("iss"));
            Assert.DoesNotContain(result.CallbackParameter("code")!, result.ToString());
        }

        var hits = _listener.Hits;
        Assert.Equal(3, hits.Count);
        Assert.All(hits, h => Assert.StartsWith("/callback?code=", h.PathAndQuery, StringComparison.Ordinal));
        Assert.Equal(3, hits.Select(h => h.ConnectionId).Distinct().Count());
        Assert.Equal(3, hits.Select(h => h.RemotePort).Distinct().Count());
        Assert.All(hits, h => Assert.True(h.ConnectionClose));
    }

    [Fact]
    public async Task Only_the_latest_visits_are_kept_and_finished_ones_are_not_held()
    {
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = _ca.RootCertificate, MaxVisitsKept = 2 });
        var fourth = browser.VisitAsync(3);

        for (var i = 0; i < 4; i++)
        {
            await browser.LaunchAsync(AuthorizeUrl($"state-{i}"), CancellationToken.None);
        }

        await browser.WhenAllCompletedAsync().WaitAsync(Wait);

        Assert.Equal([2, 3], browser.Visits.Select(v => v.Index));
        Assert.All(browser.Visits, v => Assert.Equal(ScriptedVisitOutcome.Landed, v.Result!.Outcome));
        Assert.Equal(3, (await fourth.WaitAsync(Wait)).Index);
        Assert.Equal(2, (await browser.VisitAsync(2).WaitAsync(Wait)).Index);
        await Assert.ThrowsAsync<InvalidOperationException>(() => browser.VisitAsync(1));
        Assert.Equal(0, browser.RunningVisits);
        Assert.Equal(4, _listener.Hits.Count);
    }

    [Fact]
    public async Task Abandon_never_lands()
    {
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions
        {
            TrustedRoot = _ca.RootCertificate,
            Script = url => url.Query.Contains("login_hint=walk-away", StringComparison.Ordinal) ? BrowserAction.Abandon : BrowserAction.Approve,
        });

        await browser.LaunchAsync(AuthorizeUrl("s-abandon", loginHint: "walk-away"), CancellationToken.None);
        var visit = await browser.VisitAsync(0).WaitAsync(Wait);
        var result = await visit.Completion.WaitAsync(Wait);

        Assert.Equal(BrowserAction.Abandon, visit.Action);
        Assert.Equal(ScriptedVisitOutcome.Abandoned, result.Outcome);
        Assert.NotNull(result.CallbackParameter("code"));
        Assert.Null(result.LandingStatus);
        Assert.Equal(1, _server.Counters.CodesIssued);
        Assert.Empty(_listener.Hits);
    }

    [Fact]
    public async Task A_denied_login_lands_with_the_error()
    {
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = _ca.RootCertificate });

        await browser.LaunchAsync(AuthorizeUrl("s-deny", loginHint: "deny"), CancellationToken.None);
        var result = await (await browser.VisitAsync(0).WaitAsync(Wait)).Completion.WaitAsync(Wait);

        Assert.Equal(ScriptedVisitOutcome.Landed, result.Outcome);
        Assert.Equal("access_denied", result.CallbackParameter("error"));
        Assert.Null(result.CallbackParameter("code"));
        Assert.Single(_listener.Hits);
    }

    [Fact]
    public async Task An_authorize_error_page_is_recorded_as_no_redirect()
    {
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = _ca.RootCertificate });
        var badRedirect = new Uri(AuthorizeUrl("s").AbsoluteUri.Replace("callback", "elsewhere", StringComparison.Ordinal));

        await browser.LaunchAsync(badRedirect, CancellationToken.None);
        var result = await (await browser.VisitAsync(0).WaitAsync(Wait)).Completion.WaitAsync(Wait);

        Assert.Equal(ScriptedVisitOutcome.NoRedirect, result.Outcome);
        Assert.Equal(400, result.AuthorizeStatus);
        Assert.Contains("invalid_redirect_uri", result.LandingBody);
        Assert.Empty(_listener.Hits);
    }

    [Fact]
    public async Task Tls_failures_are_recorded_not_thrown()
    {
        // No TrustedRoot: the system store does not know the throwaway development CA.
        await using var browser = new ScriptedBrowser();

        await browser.LaunchAsync(AuthorizeUrl("s-tls"), CancellationToken.None);
        var result = await (await browser.VisitAsync(0).WaitAsync(Wait)).Completion.WaitAsync(Wait);

        Assert.Equal(ScriptedVisitOutcome.Failed, result.Outcome);
        Assert.IsType<HttpRequestException>(result.Error);
        Assert.Empty(_listener.Hits);
    }

    [Fact]
    public async Task A_throwing_script_or_handler_is_recorded()
    {
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions
        {
            TrustedRoot = _ca.RootCertificate,
            Script = _ => throw new InvalidOperationException("script bug"),
        });
        browser.VisitCompleted += (_, _) => throw new InvalidOperationException("handler bug");

        var launched = await browser.LaunchAsync(AuthorizeUrl("s"), CancellationToken.None);
        var result = await (await browser.VisitAsync(0).WaitAsync(Wait)).Completion.WaitAsync(Wait);

        Assert.True(launched.Launched);
        Assert.Equal(ScriptedVisitOutcome.Failed, result.Outcome);
        Assert.Equal("script bug", result.Error!.Message);
        await Eventually.TrueAsync(() => browser.HandlerErrors.Count == 1, "the handler's exception is kept");
    }

    [Fact]
    public async Task Concurrency_is_bounded_and_dispose_cancels_waiting_visits()
    {
        var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = _ca.RootCertificate, MaxConcurrency = 2 });
        for (var i = 0; i < 3; i++)
        {
            await browser.LaunchAsync(AuthorizeUrl($"hang-{i}", loginHint: "hang"), CancellationToken.None);
        }

        await Eventually.TrueAsync(() => _server.Counters.NeverAnswered == 2, "two visits hang at the sandbox");
        Assert.Equal(2, _server.Counters.AuthorizeRequests);
        Assert.All(browser.Visits, v => Assert.Null(v.Result));

        await browser.DisposeAsync().AsTask().WaitAsync(Wait);

        Assert.All(browser.Visits, v => Assert.Equal(ScriptedVisitOutcome.Cancelled, v.Result!.Outcome));
        Assert.Equal(2, _server.Counters.AuthorizeRequests);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => browser.LaunchAsync(AuthorizeUrl("late"), CancellationToken.None));
    }

    [Fact]
    public async Task The_login_token_cancels_a_visit_that_has_not_landed()
    {
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = _ca.RootCertificate });
        using var login = new CancellationTokenSource();

        await browser.LaunchAsync(AuthorizeUrl("s-cancel", loginHint: "hang"), login.Token);
        await Eventually.TrueAsync(() => _server.Counters.NeverAnswered == 1, "the visit hangs at the sandbox");
        await login.CancelAsync();
        var result = await (await browser.VisitAsync(0).WaitAsync(Wait)).Completion.WaitAsync(Wait);

        Assert.Equal(ScriptedVisitOutcome.Cancelled, result.Outcome);
        Assert.Empty(_listener.Hits);
    }

    private Uri AuthorizeUrl(string state, string? loginHint = null)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = "app",
            ["redirect_uri"] = _redirectUri,
            ["state"] = state,
            ["code_challenge"] = Pkce.Create().Challenge,
            ["code_challenge_method"] = "S256",
            ["login_hint"] = loginHint,
        };
        return new Uri(Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(_server.AuthorizationEndpoint.AbsoluteUri,
            query.Where(kv => kv.Value is not null)));
    }
}
