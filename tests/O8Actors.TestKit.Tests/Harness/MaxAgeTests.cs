using System.Collections.Concurrent;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// <see cref="AuthorizationRequest.MaxAge"/> (OpenID Connect <c>max_age</c>) through the harness, with the sandbox playing a
/// provider whose user signed in an hour ago: the request carries it, a provider that asks the user again is taken, and
/// one that ignores it (an old session passed off as a fresh sign-in) is refused and signs no account in.
/// </summary>
public sealed class MaxAgeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SessionAge = TimeSpan.FromHours(1);

    /// <summary>A harness whose sandbox user signed in <see cref="SessionAge"/> ago; records each request's max_age.</summary>
    private static Task<O8TestHarness> StartAsync(ConcurrentQueue<string?> maxAges, bool ignoreMaxAge = false) =>
        O8TestHarness.StartAsync(o => o.ConfigureSandbox = s =>
        {
            s.SessionAge = SessionAge;
            s.IgnoreMaxAge = ignoreMaxAge;
            s.Decide = info =>
            {
                maxAges.Enqueue(info.Get("max_age"));
                return SandboxDecisions.ByLoginHint(info);
            };
        });

    private static DateTimeOffset AuthTime(TokenSet tokens) =>
        DateTimeOffset.FromUnixTimeSeconds(long.Parse(tokens.IdTokenClaims!.All.Single(c => c.Type == "auth_time").Value));

    [Fact]
    public async Task A_login_with_max_age_asks_the_provider_for_it_and_takes_the_fresh_sign_in()
    {
        var maxAges = new ConcurrentQueue<string?>();
        await using var o8 = await StartAsync(maxAges);
        var started = DateTimeOffset.UtcNow;

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, o8.Request(LoginScript.Approve("alice")) with { MaxAge = TimeSpan.FromMinutes(5) })
            .WaitAsync(Wait);

        var success = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal(["300"], maxAges);
        Assert.True(AuthTime(success.Tokens) >= started.AddSeconds(-2), "the provider signed the user in again");
    }

    [Fact]
    public async Task Without_max_age_the_providers_hour_old_session_is_a_sign_in()
    {
        var maxAges = new ConcurrentQueue<string?>();
        await using var o8 = await StartAsync(maxAges);

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        var success = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal([null], maxAges);
        Assert.True(AuthTime(success.Tokens) <= DateTimeOffset.UtcNow - SessionAge + TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_provider_that_ignores_max_age_is_refused_and_signs_no_account_in()
    {
        var maxAges = new ConcurrentQueue<string?>();
        await using var o8 = await StartAsync(maxAges, ignoreMaxAge: true);

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, o8.Request(LoginScript.Approve("alice")) with { MaxAge = TimeSpan.Zero })
            .WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("max_age", failed.Reason);
        Assert.Equal(["0"], maxAges);
        Assert.Empty(await o8.Logins.GetAccountsAsync());
    }

    [Fact]
    public async Task A_max_age_given_as_an_extra_parameter_is_checked_the_same_way()
    {
        var maxAges = new ConcurrentQueue<string?>();
        await using var o8 = await StartAsync(maxAges, ignoreMaxAge: true);
        var request = o8.Request(LoginScript.Approve("alice"));
        request = request with { ExtraParameters = new Dictionary<string, string>(request.Parameters) { ["max_age"] = "600" } };

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, request).WaitAsync(Wait);

        Assert.Equal(LoginFailure.IdTokenInvalid, Assert.IsType<LoginFailed>(outcome).Failure);
        Assert.Equal(["600"], maxAges);
    }

    [Fact]
    public async Task A_request_that_gets_max_age_wrong_is_refused_before_any_login_starts()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var request = o8.Request(LoginScript.Approve("alice"));
        var extra = new Dictionary<string, string>(request.Parameters) { ["max_age"] = "ten minutes" };

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => o8.Logins.RunAsync(o8.Options.ProviderName, request with { MaxAge = TimeSpan.FromSeconds(-1) }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => o8.Logins.RunAsync(o8.Options.ProviderName, request with { MaxAge = TimeSpan.MaxValue }));
        await Assert.ThrowsAsync<ArgumentException>(() => o8.Logins.RunAsync(o8.Options.ProviderName,
            request with { ExtraParameters = new Dictionary<string, string>(request.Parameters) { ["max_age"] = "99999999999999" } }));
        await Assert.ThrowsAsync<ArgumentException>(() => o8.Logins.RunAsync(o8.Options.ProviderName,
            request with { MaxAge = TimeSpan.Zero, ExtraParameters = new Dictionary<string, string>(request.Parameters) { ["max_age"] = "0" } }));
        await Assert.ThrowsAsync<ArgumentException>(() => o8.Logins.RunAsync(o8.Options.ProviderName, request with { ExtraParameters = extra }));
        await Assert.ThrowsAsync<ArgumentException>(() => o8.Logins.RunAsync(o8.Options.ProviderName,
            request with { MaxAge = TimeSpan.Zero, Method = LoginMethod.Device }));
        Assert.Equal(0, o8.Sandbox.Counters.AuthorizeRequests);
    }
}
