using Microsoft.Extensions.DependencyInjection;
using O8Actors.Browser;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// A harness that runs many logins does not grow with them: the script of each login is forgotten once it has ended,
/// whether the harness ran it or the test ran <see cref="O8TestHarness.Request"/> itself, pushed (RFC 9126) or not, and
/// whatever the login did first: ended before it had an authorize URL, or had its pushed request spent by a browser of
/// the app's own before the harness saw that URL.
/// </summary>
public sealed class LongLivedHarnessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_scripts_of_ended_logins_are_forgotten(bool pushed)
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            if (pushed) o.ConfigureSandbox = sandbox => sandbox.PushedAuthorization = SandboxPushedAuthorization.Required;
        });

        var results = await o8.RunManyAsync([LoginScript.Approve("alice"), LoginScript.Deny(), LoginScript.Approve("bob")], 2).WaitAsync(Wait);
        var own = await o8.Logins.RunAsync(o8.ProviderName, o8.Request(LoginScript.Approve("carol"))).WaitAsync(Wait);

        Assert.All(results, r => Assert.True(r.MatchesScript));
        Assert.IsType<LoginSucceeded>(own);
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 0, "the harness forgot the scripts of the ended logins", Wait);
    }

    /// <summary>
    /// Cancelled while a login is in flight and the others wait for their slot: every script ends as
    /// <see cref="LoginCancelled"/>, those never started too. The wait for a slot threw before, and with it the results
    /// of the logins that had ended were lost.
    /// </summary>
    [Fact]
    public async Task Cancelling_many_logins_ends_each_as_cancelled_those_waiting_for_a_slot_too()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        using var cancel = new CancellationTokenSource();

        var running = o8.RunManyAsync([LoginScript.NeverAnswer, LoginScript.Approve("alice"), LoginScript.Approve("bob")], 1, cancellationToken: cancel.Token);
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 1, "the first login started", Wait);
        await cancel.CancelAsync();
        var results = await running.WaitAsync(Wait);

        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.IsType<LoginCancelled>(r.Outcome));
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 0, "the harness forgot the scripts", Wait);
    }

    /// <summary>
    /// A request used again after its login ended (an app that keeps it for a retry): its script was forgotten, and the
    /// second login fell back to the hint rules, where a spent <c>...-deny</c> tag approved and signed in a user named
    /// after it. The script is played again now, in a browser login and a device login alike.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_request_used_again_after_its_login_ended_plays_its_script_again_not_the_hint_rules(bool device)
    {
        await using var o8 = await O8TestHarness.StartAsync(o => { if (device) o.ConfigureLogins = setup => setup.Options.Login.Method = LoginMethod.Device; });
        var request = o8.Request(LoginScript.Deny());
        Assert.IsType<LoginDenied>(await o8.Logins.RunAsync(o8.ProviderName, request).WaitAsync(Wait));
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 0, "the script of the ended login was forgotten", Wait);

        var again = await o8.Logins.RunAsync(o8.ProviderName, request).WaitAsync(Wait);

        Assert.Equal("access_denied", Assert.IsType<LoginDenied>(again).Error);
    }

    /// <summary>
    /// A tag whose script was retired long ago (more logins have ended since than the harness keeps) is refused, saying
    /// why, never played by the hint rules.
    /// </summary>
    [Fact]
    public void A_tag_retired_long_ago_is_refused_saying_why()
    {
        var book = new ScriptBook(retiredScriptsKept: 1);
        var old = book.Add(LoginScript.Approve("alice"));
        var recent = book.Add(LoginScript.Approve("bob"));
        book.Forget(old);
        book.Forget(recent);

        var refused = book.Decide(Authorize(old));
        var played = book.Decide(Authorize(recent));

        Assert.Equal(("invalid_request", ScriptBook.SpentTagDescription), (refused.Error, refused.ErrorDescription));
        Assert.Equal((SandboxDecisionKind.Approve, "bob"), (played.Kind, played.Subject));
        Assert.Equal(0, book.Count);

        static AuthorizeRequestInfo Authorize(string tag) =>
            new("client-1", "http://127.0.0.1/cb", "state-1", "openid", "challenge", "nonce", tag, new Dictionary<string, string>());
    }

    /// <summary>
    /// A browser that reaches the authorize page after its own login has ended (a user who comes back after the
    /// deadline) is answered as its script says, not refused: under load, the harness's own abandoned logins do that.
    /// </summary>
    [Fact]
    public async Task A_browser_that_comes_back_after_its_login_ended_is_answered_as_its_script_says()
    {
        var appBrowser = new AppBrowser();
        await using var o8 = await O8TestHarness.StartAsync(o => o.Browser = appBrowser);
        using var cancel = new CancellationTokenSource();
        var login = o8.Logins.RunAsync(o8.ProviderName, o8.Request(LoginScript.Approve("frank")), cancel.Token);
        var authorizeUrl = await appBrowser.Opened.Task.WaitAsync(Wait);
        await cancel.CancelAsync();
        Assert.IsType<LoginCancelled>(await login.WaitAsync(Wait));
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 0, "the script of the ended login was forgotten", Wait);

        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var answer = await browser.GetAsync(authorizeUrl);

        Assert.Equal(System.Net.HttpStatusCode.Redirect, answer.StatusCode);
        Assert.Contains("code=", answer.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.Equal(0, o8.Sandbox.Counters.Denials);
    }

    /// <summary>
    /// One request handed to two logins at once: each plays its script, held until the last of them has ended. The
    /// browser takes one page at a time, so the second login reaches the sandbox after the first has ended: its script
    /// was forgotten then, and the second login played the hint rules (signed in a user named after the tag).
    /// </summary>
    [Fact]
    public async Task A_request_two_logins_play_at_once_is_held_until_both_have_ended()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.BrowserConcurrency = 1);
        var request = o8.Request(LoginScript.Approve("alice"));

        var outcomes = await Task.WhenAll(o8.Logins.RunAsync(o8.ProviderName, request), o8.Logins.RunAsync(o8.ProviderName, request)).WaitAsync(Wait);

        Assert.All(outcomes, outcome => Assert.Equal("alice", Assert.IsType<LoginSucceeded>(outcome).Tokens.IdTokenClaims?.Subject));
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 0, "the script was forgotten once both had ended", Wait);
    }

    [Theory]
    // Refused by O8Actors itself while it builds the authorize URL.
    [InlineData(false, "response_mode", "fragment")]
    // Refused by the sandbox at /par, so the push never gives a request_uri.
    [InlineData(true, "prompt", "none login")]
    public async Task The_script_of_a_login_that_ends_before_its_authorize_url_is_ready_is_forgotten(bool pushed, string parameter, string value)
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            if (pushed) o.ConfigureSandbox = sandbox => sandbox.PushedAuthorization = SandboxPushedAuthorization.Required;
        });
        var request = o8.Request(LoginScript.Approve("dave"));
        request = request with { ExtraParameters = new Dictionary<string, string>(request.Parameters) { [parameter] = value } };

        var outcome = await o8.Logins.RunAsync(o8.ProviderName, request).WaitAsync(Wait);

        Assert.Equal(LoginFailure.ProviderUnavailable, Assert.IsType<LoginFailed>(outcome).Failure);
        await o8.Events.WaitForEndAsync(outcome.LoginId, Wait);
        Assert.DoesNotContain(o8.Events.For(outcome.LoginId), e => e is AuthorizeUrlReadyEvent);
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 0, "the harness forgot the script of the login that ended at its start", Wait);
    }

    [Fact]
    public async Task The_script_of_a_pushed_login_whose_request_uri_the_apps_browser_spent_first_is_forgotten()
    {
        var appBrowser = new AppBrowser();
        O8TestHarness? harness = null;
        var spender = new SpendsPushedRequestFirst(() => harness!.Client.ClientId);
        await using var o8 = harness = await O8TestHarness.StartAsync(o =>
        {
            o.ConfigureSandbox = sandbox => sandbox.PushedAuthorization = SandboxPushedAuthorization.Required;
            o.Browser = appBrowser;
            // On the providers' client itself: the app's HTTP client defaults do not reach it.
            o.ConfigureLogins = setup => setup.ConfigureServices = services =>
                services.AddHttpClient(OAuthLogins.HttpClientName).AddHttpMessageHandler(() => spender);
        });
        using var cancel = new CancellationTokenSource();

        var login = o8.Logins.RunAsync(o8.ProviderName, o8.Request(LoginScript.Approve("erin")), cancel.Token);
        await appBrowser.Opened.Task.WaitAsync(Wait);
        await cancel.CancelAsync();

        Assert.IsType<LoginCancelled>(await login.WaitAsync(Wait));
        Assert.Equal(1, spender.Spent);
        Assert.Equal(0, o8.Sandbox.HeldPushedRequests);
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 0, "the harness forgot the script of the pushed login", Wait);
    }

    /// <summary>A browser of the app's own: it shows the authorize URL and signs no one in.</summary>
    private sealed class AppBrowser : IBrowserLauncher
    {
        public TaskCompletionSource<Uri> Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            Opened.TrySetResult(authorizeUrl);
            return Task.FromResult(BrowserLaunchResult.Opened("the app's own"));
        }
    }
}
