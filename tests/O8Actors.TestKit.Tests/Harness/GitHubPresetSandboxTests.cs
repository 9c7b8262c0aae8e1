using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// The GitHub preset, its endpoints on the sandbox: without a client secret it is a public client for device logins,
/// whose browser logins are refused at their start (GitHub would refuse their code only after the user approved); with
/// the secret its browser logins sign in.
/// </summary>
public sealed class GitHubPresetSandboxTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string WebSecret = "gh-web-client-secret-0123456789abcdef";

    /// <summary>
    /// A harness plus two providers on its sandbox, both the GitHub preset: "github" for the public client "gh-cli" (no
    /// secret) and "github-web" for the confidential client "gh-web".
    /// </summary>
    private static async Task<O8TestHarness> StartAsync()
    {
        var o8 = await O8TestHarness.StartAsync(o => o.ConfigureSandbox = s => s.DevicePollInterval = TimeSpan.FromSeconds(1));
        await RegisterAsync(o8, "github", "gh-cli", secret: null);
        await RegisterAsync(o8, "github-web", "gh-web", WebSecret);
        return o8;
    }

    private static async Task RegisterAsync(O8TestHarness o8, string name, string clientId, string? secret)
    {
        await o8.Logins.RegisterProviderAsync(ProviderPresets.GitHub(clientId, secret, o =>
        {
            o.Name = name;
            o.AuthorizationEndpoint = o8.Sandbox.AuthorizationEndpoint;
            o.TokenEndpoint = o8.Sandbox.TokenEndpoint;
            o.DeviceAuthorizationEndpoint = o8.Sandbox.DeviceAuthorizationEndpoint;
            // GitHub sends no iss on its redirects; the sandbox does, and the login accepts it only from a known issuer.
            o.Issuer = o8.Sandbox.IssuerString;
        }));
        var redirectUri = await o8.Logins.GetRedirectUriAsync(name);
        o8.Sandbox.RegisterClient(clientId, secret, [redirectUri.OriginalString], secret is null ? ClientAuthMethod.None : ClientAuthMethod.Post);
    }

    private static AuthorizationRequest GitHubRequest(O8TestHarness o8, LoginMethod method) =>
        o8.Request(LoginScript.Approve("octocat"), scopes: ["read:user"]) with { Method = method };

    /// <summary>The login signed in with the sandbox's first device code: its token is live there.</summary>
    private static LoginSucceeded SignedInByTheDeviceGrant(O8TestHarness o8, LoginOutcome outcome)
    {
        var signedIn = Assert.IsType<LoginSucceeded>(outcome);
        Assert.True(o8.Sandbox.IsActive(signedIn.Tokens.AccessToken));
        Assert.Equal(1, o8.Sandbox.Counters.DeviceCodesIssued);
        return signedIn;
    }

    [Fact]
    public async Task Without_the_secret_a_device_login_signs_in_and_a_browser_login_is_refused_before_any_authorize_request_and_with_it_signs_in()
    {
        await using var o8 = await StartAsync();

        var device = await o8.Logins.RunAsync("github", GitHubRequest(o8, LoginMethod.Device)).WaitAsync(Wait);

        SignedInByTheDeviceGrant(o8, device);

        var browser = await o8.Logins.RunAsync("github", GitHubRequest(o8, LoginMethod.Browser)).WaitAsync(Wait);

        var refused = Assert.IsType<LoginFailed>(browser);
        Assert.Equal(LoginFailure.ProviderUnavailable, refused.Failure);
        Assert.Contains("device login", refused.Reason);
        // No browser went to the sandbox, and no code was asked for nor sent.
        Assert.Equal(0, o8.Sandbox.Counters.AuthorizeRequests);
        Assert.Equal(0, o8.Sandbox.Counters.CodesIssued);
        await o8.Events.WaitForEndAsync(refused.LoginId).WaitAsync(Wait);
        Assert.Empty(o8.Events.For(refused.LoginId).OfType<AuthorizeUrlReadyEvent>());

        // With the secret the same preset's browser login signs in.
        var web = await o8.Logins.RunAsync("github-web", GitHubRequest(o8, LoginMethod.Browser)).WaitAsync(Wait);

        var webSignedIn = Assert.IsType<LoginSucceeded>(web);
        Assert.True(o8.Sandbox.IsActive(webSignedIn.Tokens.AccessToken));
        Assert.Equal(1, o8.Sandbox.Counters.AuthorizeRequests);
    }

    [Fact]
    public async Task Without_the_secret_an_Auto_login_where_a_browser_could_open_signs_in_with_the_device_grant()
    {
        await using var o8 = await StartAsync();

        var auto = await o8.Logins.RunAsync("github", GitHubRequest(o8, LoginMethod.Auto)).WaitAsync(Wait);

        var signedIn = SignedInByTheDeviceGrant(o8, auto);
        Assert.Equal(0, o8.Sandbox.Counters.AuthorizeRequests);
        // Auto first chose the browser (one can open here), then the device grant, saying why (the recorder has every
        // event of the login once it has its end).
        await o8.Events.WaitForEndAsync(signedIn.LoginId).WaitAsync(Wait);
        var chosen = o8.Events.For(signedIn.LoginId).OfType<LoginMethodChosenEvent>().ToList();
        Assert.Equal([LoginMethod.Browser, LoginMethod.Device], chosen.Select(e => e.Method));
        Assert.Contains("only for a client with a secret", chosen[^1].Reason);
    }
}
