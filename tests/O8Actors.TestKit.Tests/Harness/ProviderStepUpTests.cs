using System.Collections.Concurrent;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// A provider's own <c>acr_values</c> and <c>max_age</c> (its <c>AuthorizeParameters</c>) are a requirement on every
/// login, checked on the ID token as a login's own are: a provider (or a page between) that signs the user in with a
/// weaker class, or passes an old session off as a fresh sign-in, fails the login as a per-login step-up would.
/// </summary>
public sealed class ProviderStepUpTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Corp = "corp";
    private const string Secret = "corp-client-secret-0123456789abcdef";

    /// <summary>
    /// A harness whose sandbox signs in with <paramref name="authenticationClass"/> (null: the first asked), whose user
    /// signed in an hour ago, and whose requests' acr_values and max_age are recorded; plus a provider "corp" on it with
    /// <paramref name="providerParameters"/>.
    /// </summary>
    private static async Task<O8TestHarness> StartAsync(ConcurrentQueue<(string? Acr, string? MaxAge)> asked,
        IDictionary<string, string> providerParameters, string? authenticationClass = null, bool ignoreMaxAge = false)
    {
        var o8 = await O8TestHarness.StartAsync(o => o.ConfigureSandbox = s =>
        {
            s.AuthenticationClass = authenticationClass;
            s.SessionAge = TimeSpan.FromHours(1);
            s.IgnoreMaxAge = ignoreMaxAge;
            s.DevicePollInterval = TimeSpan.FromSeconds(1);
            s.Decide = info =>
            {
                asked.Enqueue((info.Get("acr_values"), info.Get("max_age")));
                return SandboxDecisions.ByLoginHint(info);
            };
        });
        await o8.Logins.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = Corp,
            Issuer = o8.Sandbox.IssuerString,
            ClientId = "corp-app",
            ClientSecret = Secret,
            AuthorizeParameters = providerParameters,
        }));
        var redirectUri = await o8.Logins.GetRedirectUriAsync(Corp);
        o8.Sandbox.RegisterClient("corp-app", Secret, [redirectUri.OriginalString], ClientAuthMethod.Basic);
        return o8;
    }

    private static Dictionary<string, string> Parameters(string name, string value) => new(StringComparer.Ordinal) { [name] = value };

    [Fact]
    public async Task A_providers_acr_values_are_a_requirement_and_a_weaker_sign_in_fails_the_login()
    {
        var asked = new ConcurrentQueue<(string?, string?)>();
        await using var o8 = await StartAsync(asked, Parameters("acr_values", "urn:mfa"), authenticationClass: "pwd");

        var outcome = await o8.Logins.RunAsync(Corp, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        // Before: the provider's acr_values went out and the acr=pwd sign-in was taken.
        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("'pwd'", failed.Reason);
        Assert.Equal([("urn:mfa", (string?)null)], asked);
        Assert.Empty(await o8.Logins.GetAccountsAsync());
    }

    [Fact]
    public async Task A_sign_in_of_the_providers_class_is_taken()
    {
        var asked = new ConcurrentQueue<(string?, string?)>();
        await using var o8 = await StartAsync(asked, Parameters("acr_values", "urn:mfa"));

        var outcome = await o8.Logins.RunAsync(Corp, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        var success = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal("urn:mfa", success.Tokens.IdTokenClaims!.All.Single(c => c.Type == "acr").Value);
    }

    [Fact]
    public async Task A_logins_own_acr_values_narrow_the_providers_on_the_request_and_in_the_check()
    {
        var asked = new ConcurrentQueue<(string?, string?)>();
        await using var o8 = await StartAsync(asked, Parameters("acr_values", "urn:mfa urn:phr"), authenticationClass: "urn:phr");

        var outcome = await o8.Logins.RunAsync(Corp, o8.Request(LoginScript.Approve("alice")) with { AcrValues = ["urn:pwd", "urn:phr"] }).WaitAsync(Wait);

        Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal([("urn:phr", (string?)null)], asked);
    }

    [Fact]
    public async Task A_logins_own_acr_values_cannot_widen_the_providers_and_a_weaker_sign_in_is_never_taken()
    {
        var asked = new ConcurrentQueue<(string?, string?)>();
        await using var o8 = await StartAsync(asked, Parameters("acr_values", "urn:mfa"), authenticationClass: "pwd");

        // Before: the login's pwd replaced the provider's urn:mfa, on the request and in the check, and the login succeeded.
        var outcome = await o8.Logins.RunAsync(Corp, o8.Request(LoginScript.Approve("alice")) with { AcrValues = ["pwd"] }).WaitAsync(Wait);

        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("urn:mfa", failed.Reason);
        Assert.Empty(asked); // refused before the browser opened
        Assert.Empty(await o8.Logins.GetAccountsAsync());
    }

    [Fact]
    public async Task A_providers_max_age_is_a_requirement_and_an_old_session_fails_the_login()
    {
        var asked = new ConcurrentQueue<(string?, string?)>();
        await using var o8 = await StartAsync(asked, Parameters("max_age", "0"), ignoreMaxAge: true);

        var outcome = await o8.Logins.RunAsync(Corp, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        // Before: max_age=0 went out, the provider ignored it, and the hour-old session was taken.
        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.IdTokenInvalid, failed.Failure);
        Assert.Contains("max_age", failed.Reason);
        Assert.Equal([((string?)null, "0")], asked);
        Assert.Empty(await o8.Logins.GetAccountsAsync());
    }

    [Fact]
    public async Task Of_a_providers_max_age_and_a_logins_longer_one_the_shorter_is_asked_for_and_checked()
    {
        var asked = new ConcurrentQueue<(string?, string?)>();
        await using var o8 = await StartAsync(asked, Parameters("max_age", "60"), ignoreMaxAge: true);

        // The session is an hour old: within the login's two hours, not within the provider's minute.
        var outcome = await o8.Logins.RunAsync(Corp, o8.Request(LoginScript.Approve("alice")) with { MaxAge = TimeSpan.FromHours(2) }).WaitAsync(Wait);

        Assert.Equal(LoginFailure.IdTokenInvalid, Assert.IsType<LoginFailed>(outcome).Failure);
        Assert.Equal([((string?)null, "60")], asked);
    }

    [Fact]
    public async Task A_provider_that_honours_its_max_age_signs_the_user_in_again_and_the_login_is_taken()
    {
        var asked = new ConcurrentQueue<(string?, string?)>();
        await using var o8 = await StartAsync(asked, Parameters("max_age", "0"));

        var outcome = await o8.Logins.RunAsync(Corp, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        Assert.IsType<LoginSucceeded>(outcome);
    }

    [Fact]
    public async Task A_device_login_on_a_provider_with_a_step_up_requirement_is_refused_before_any_device_code()
    {
        var asked = new ConcurrentQueue<(string?, string?)>();
        await using var o8 = await StartAsync(asked, Parameters("acr_values", "urn:mfa"), authenticationClass: "pwd");

        var outcome = await o8.Logins.RunAsync(Corp, o8.Request(LoginScript.Approve("alice")) with { Method = LoginMethod.Device }).WaitAsync(Wait);

        // Before: the device grant ran and its acr=pwd sign-in was taken.
        var failed = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.Contains("device login", failed.Reason);
        Assert.Equal(0, o8.Sandbox.Counters.DeviceCodesIssued);
    }
}
