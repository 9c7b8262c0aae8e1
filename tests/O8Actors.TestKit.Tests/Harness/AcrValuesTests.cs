using System.Collections.Concurrent;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// <see cref="AuthorizationRequest.AcrValues"/> (OpenID Connect <c>acr_values</c>) through the harness: the request carries
/// them, a sign-in of an asked class is taken, and a provider that signs the user in with a weaker class (the sandbox's
/// <c>AuthenticationClass</c>) is refused and signs no account in.
/// </summary>
public sealed class AcrValuesTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly string[] StrongClasses = ["phr", "mfa"];

    /// <summary>A harness whose sandbox signs in with <paramref name="authenticationClass"/> (null: the first asked); records each request's acr_values.</summary>
    private static Task<O8TestHarness> StartAsync(ConcurrentQueue<string?> asked, string? authenticationClass = null) =>
        O8TestHarness.StartAsync(o => o.ConfigureSandbox = s =>
        {
            s.AuthenticationClass = authenticationClass;
            s.Decide = info =>
            {
                asked.Enqueue(info.Get("acr_values"));
                return SandboxDecisions.ByLoginHint(info);
            };
        });

    [Fact]
    public async Task A_login_with_acr_values_asks_for_them_and_takes_a_sign_in_of_an_asked_class()
    {
        var asked = new ConcurrentQueue<string?>();
        await using var o8 = await StartAsync(asked);

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, o8.Request(LoginScript.Approve("alice")) with { AcrValues = StrongClasses })
            .WaitAsync(Wait);

        var success = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal(["phr mfa"], asked);
        Assert.Equal("phr", success.Tokens.IdTokenClaims!.All.Single(c => c.Type == "acr").Value);
        Assert.NotNull(success.Account);
    }

    [Fact]
    public async Task A_provider_that_signs_in_with_a_weaker_class_is_refused_and_signs_no_account_in()
    {
        var asked = new ConcurrentQueue<string?>();
        await using var o8 = await StartAsync(asked, authenticationClass: "pwd");

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, o8.Request(LoginScript.Approve("alice")) with { AcrValues = StrongClasses })
            .WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("'pwd'", failed.Reason);
        Assert.Empty(await o8.Logins.GetAccountsAsync());
    }

    [Fact]
    public async Task Acr_values_given_as_an_extra_parameter_are_checked_the_same_way()
    {
        var asked = new ConcurrentQueue<string?>();
        await using var o8 = await StartAsync(asked, authenticationClass: "pwd");
        var request = o8.Request(LoginScript.Approve("alice"));
        request = request with { ExtraParameters = new Dictionary<string, string>(request.Parameters) { ["acr_values"] = "mfa" } };

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, request).WaitAsync(Wait);

        Assert.Equal(LoginFailure.IdTokenInvalid, Assert.IsType<LoginFailed>(outcome).Failure);
        Assert.Equal(["mfa"], asked);
    }

    [Fact]
    public async Task Acr_values_given_wrongly_are_refused_before_any_login_starts()
    {
        await using var o8 = await O8TestHarness.StartAsync();
        var request = o8.Request(LoginScript.Approve("alice"));

        foreach (var wrong in new[]
        {
            request with { AcrValues = [] },
            request with { AcrValues = ["multi factor"] },
            request with { AcrValues = ["mfa"], ExtraParameters = new Dictionary<string, string>(request.Parameters) { ["acr_values"] = "mfa" } },
            request with { AcrValues = ["mfa"], Method = LoginMethod.Device },
        })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => o8.Logins.RunAsync(o8.Options.ProviderName, wrong));
        }

        // The login an account's renewal may run is checked the same way, before anything is asked of the account.
        var (account, _) = await Support.HarnessAccounts.SignInAsync(o8, "alice");
        var before = o8.Sandbox.Counters.AuthorizeRequests;
        await Assert.ThrowsAsync<ArgumentException>(() => o8.Logins.GetAccessTokenAsync(account,
            options: new AccessTokenOptions(AllowInteraction: true, Login: request with { AcrValues = [] })));
        Assert.Equal(before, o8.Sandbox.Counters.AuthorizeRequests);
    }
}
