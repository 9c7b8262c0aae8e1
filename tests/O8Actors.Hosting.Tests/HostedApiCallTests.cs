using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Browser;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// <c>AddOAuthAccessToken</c> on clients of <c>IHttpClientFactory</c>: requests reach an API (the sandbox's userinfo
/// endpoint, which checks every token) as the right account, and a request with no account to call as, or to an origin
/// the client's <c>allowedOrigins</c> leave out, is refused before it is sent.
/// </summary>
public sealed class HostedApiCallTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AsyncLocal<string?> CurrentUser = new();
    private readonly ScriptedBrowser _browser = new();
    private IHost _host = null!;

    private IOAuthLogins Logins => _host.Services.GetRequiredService<IOAuthLogins>();

    private Uri SandboxOrigin => new(sandbox.Server.UserInfoEndpoint.GetLeftPart(UriPartial.Authority));

    private HttpClient Client(string name) => _host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    public async ValueTask InitializeAsync()
    {
        _host = await HostedO8.StartWithSandboxAsync(sandbox, _browser, "o8-api-calls", services: services =>
        {
            services.AddHttpClient("only").AddOAuthAccessToken("sandbox");
            services.AddHttpClient("bob").AddOAuthAccessToken("sandbox", accountKey: "bob");
            services.AddHttpClient("named").AddOAuthAccessToken();
            // The sandbox's origin (http on loopback), and an API elsewhere: only the first may get bob's token.
            services.AddHttpClient("bob-at-sandbox").AddOAuthAccessToken("sandbox", "bob", allowedOrigins: [SandboxOrigin]);
            services.AddHttpClient("bob-elsewhere").AddOAuthAccessToken("sandbox", "bob", allowedOrigins: [new Uri("https://api.example.com")]);
            // A web app's form: the account of the user the current request is for.
            services.AddHttpClient("current").AddOAuthAccessToken((_, _) =>
                ValueTask.FromResult(new OAuthAccount("sandbox", CurrentUser.Value ?? throw new InvalidOperationException("no user"))));
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _browser.DisposeAsync();
    }

    [Fact]
    public async Task A_client_for_the_providers_only_account_calls_the_API_as_that_account()
    {
        var ct = TestContext.Current.CancellationToken;
        var tokens = await SignInAsync("alice", ct);

        var me = await UserInfoAsync(Client("only"), ct);

        Assert.Equal(SandboxFixture.Subject(tokens.IdToken!), me);
    }

    [Fact]
    public async Task With_no_account_signed_in_or_two_and_no_key_the_request_is_refused_before_it_is_sent()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = sandbox.Server.Counters.UserInfoRequests;

        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => Client("only").GetAsync(sandbox.Server.UserInfoEndpoint, ct));
        Assert.Contains("No account of provider 'sandbox'", none.Message, StringComparison.Ordinal);

        await SignInAsync("alice", ct);
        await SignInAsync("bob", ct);
        var two = await Assert.ThrowsAsync<InvalidOperationException>(() => Client("only").GetAsync(sandbox.Server.UserInfoEndpoint, ct));
        Assert.Contains("2 accounts of provider 'sandbox'", two.Message, StringComparison.Ordinal);
        Assert.Equal(before, sandbox.Server.Counters.UserInfoRequests);

        // Named by its key, one of them is called as.
        Assert.Equal("bob", await UserInfoAsync(Client("bob"), ct));
    }

    [Fact]
    public async Task One_client_calls_as_the_account_each_request_names()
    {
        var ct = TestContext.Current.CancellationToken;
        await SignInAsync("alice", ct);
        await SignInAsync("bob", ct);
        var client = Client("current");

        foreach (var user in new[] { "alice", "bob", "alice" })
        {
            CurrentUser.Value = user;
            Assert.Equal(user, await UserInfoAsync(client, ct));
        }
    }

    [Fact]
    public async Task A_request_that_names_its_account_is_sent_as_that_account_and_one_that_names_none_is_not_sent()
    {
        var ct = TestContext.Current.CancellationToken;
        await SignInAsync("alice", ct);
        await SignInAsync("bob", ct);
        var before = sandbox.Server.Counters.UserInfoRequests;

        using var unnamed = new HttpRequestMessage(HttpMethod.Get, sandbox.Server.UserInfoEndpoint);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Client("named").SendAsync(unnamed, ct));
        Assert.Contains("AccessTokenHandler.AccountOption", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, sandbox.Server.Counters.UserInfoRequests);

        foreach (var user in new[] { "bob", "alice" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, sandbox.Server.UserInfoEndpoint);
            request.Options.Set(AccessTokenHandler.AccountOption, new OAuthAccount("sandbox", user));
            using var response = await Client("named").SendAsync(request, ct);
            Assert.Equal(user, await SubjectOfAsync(response, ct));
        }

        // A request's own account wins over the client's.
        using var overridden = new HttpRequestMessage(HttpMethod.Get, sandbox.Server.UserInfoEndpoint);
        overridden.Options.Set(AccessTokenHandler.AccountOption, new OAuthAccount("sandbox", "alice"));
        using var answer = await Client("bob").SendAsync(overridden, ct);
        Assert.Equal("alice", await SubjectOfAsync(answer, ct));
    }

    [Fact]
    public async Task A_client_with_allowed_origins_sends_the_token_there_and_refuses_other_origins_unsent()
    {
        var ct = TestContext.Current.CancellationToken;
        await SignInAsync("bob", ct);
        var before = sandbox.Server.Counters.UserInfoRequests;

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Client("bob-elsewhere").GetAsync(sandbox.Server.UserInfoEndpoint, ct));
        Assert.Contains(SandboxOrigin.GetLeftPart(UriPartial.Authority), refused.Message, StringComparison.Ordinal);
        Assert.Contains("allowed origins", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, sandbox.Server.Counters.UserInfoRequests);

        Assert.Equal("bob", await UserInfoAsync(Client("bob-at-sandbox"), ct));
    }

    [Fact]
    public void An_allowed_origin_that_is_plain_http_off_loopback_or_has_a_path_is_refused_when_the_client_is_registered()
    {
        var services = new ServiceCollection();

        foreach (var origin in new[] { "http://api.example.com", "https://api.example.com/v1/" })
        {
            var error = Assert.Throws<ArgumentException>(() =>
                services.AddHttpClient("api").AddOAuthAccessToken("sandbox", allowedOrigins: [new Uri(origin)]));
            Assert.Equal("allowedOrigins", error.ParamName);
        }
    }

    /// <summary>Signs <paramref name="user"/> in (the sandbox's subject is the login hint), the account keyed by the user's name.</summary>
    private async Task<TokenSet> SignInAsync(string user, CancellationToken ct)
    {
        var request = SandboxFixture.Hint(user) with { AccountKey = user };
        var outcome = Assert.IsType<LoginSucceeded>(await Logins.RunAsync("sandbox", request, ct).WaitAsync(Wait, ct));
        Assert.Equal(new OAuthAccount("sandbox", user), outcome.Account);
        return outcome.Tokens;
    }

    private async Task<string?> UserInfoAsync(HttpClient client, CancellationToken ct)
    {
        using var response = await client.GetAsync(sandbox.Server.UserInfoEndpoint, ct);
        return await SubjectOfAsync(response, ct);
    }

    private static async Task<string?> SubjectOfAsync(HttpResponseMessage response, CancellationToken ct)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        return body.GetProperty("sub").GetString();
    }
}
