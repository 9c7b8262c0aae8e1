using System.Collections.Concurrent;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// Whole logins against the sandbox, which refuses a <c>code_verifier</c> for a code whose authorize request had no
/// <c>code_challenge</c> (RFC 9700 section 2.1.1): the verifier goes to the token endpoint exactly when the challenge
/// went out, a confidential client may opt out of PKCE (per provider, or with <c>o8.login.pkce = off</c>), and a public
/// client keeps it whatever the app's switch says.
/// </summary>
public sealed class PkceOptOutTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string NoPkceProvider = "no-pkce";

    /// <summary>A harness whose sandbox records each authorize request's code_challenge (by client id).</summary>
    private static Task<O8TestHarness> StartAsync(ConcurrentQueue<(string? Client, string? Challenge)> challenges, bool sandboxRequiresPkce,
        ClientAuthMethod auth = ClientAuthMethod.Basic, bool appPkce = true) =>
        O8TestHarness.StartAsync(o =>
        {
            o.ClientAuthentication = auth;
            o.ConfigureSandbox = s =>
            {
                s.RequirePkce = sandboxRequiresPkce;
                s.Decide = info =>
                {
                    challenges.Enqueue((info.Get("client_id"), info.Get("code_challenge")));
                    return SandboxDecisions.ByLoginHint(info);
                };
            };
            o.ConfigureLogins = setup => setup.Options.Login.Pkce = appPkce;
        });

    [Fact]
    public async Task A_confidential_client_that_opts_out_of_PKCE_signs_in_without_sending_a_verifier()
    {
        var challenges = new ConcurrentQueue<(string? Client, string? Challenge)>();
        await using var o8 = await StartAsync(challenges, sandboxRequiresPkce: false);
        const string secret = "no-pkce-client-secret-0123456789abcdef";
        await o8.Logins.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = NoPkceProvider,
            Issuer = o8.Sandbox.IssuerString,
            ClientId = "no-pkce-app",
            ClientSecret = secret,
            UsePkce = false,
        }));
        var redirectUri = await o8.Logins.GetRedirectUriAsync(NoPkceProvider);
        o8.Sandbox.RegisterClient("no-pkce-app", secret, [redirectUri.ToString()], ClientAuthMethod.Basic);

        var outcome = await o8.Logins.RunAsync(NoPkceProvider, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        // Before: the verifier went out anyway and the sandbox refused the code (invalid_grant).
        Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal([("no-pkce-app", (string?)null)], challenges);
    }

    [Fact]
    public async Task With_the_apps_PKCE_switch_off_a_public_client_still_sends_the_challenge_and_signs_in()
    {
        var challenges = new ConcurrentQueue<(string? Client, string? Challenge)>();
        // The sandbox requires PKCE: without the challenge it would refuse the authorize request.
        await using var o8 = await StartAsync(challenges, sandboxRequiresPkce: true, ClientAuthMethod.None, appPkce: false);

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        Assert.IsType<LoginSucceeded>(outcome);
        Assert.NotNull(Assert.Single(challenges).Challenge);
    }

    [Fact]
    public async Task With_the_apps_PKCE_switch_off_a_confidential_client_sends_neither_challenge_nor_verifier()
    {
        var challenges = new ConcurrentQueue<(string? Client, string? Challenge)>();
        await using var o8 = await StartAsync(challenges, sandboxRequiresPkce: false, ClientAuthMethod.Basic, appPkce: false);

        var outcome = await o8.Logins.RunAsync(o8.Options.ProviderName, o8.Request(LoginScript.Approve("alice"))).WaitAsync(Wait);

        Assert.IsType<LoginSucceeded>(outcome);
        Assert.Null(Assert.Single(challenges).Challenge);
    }
}
