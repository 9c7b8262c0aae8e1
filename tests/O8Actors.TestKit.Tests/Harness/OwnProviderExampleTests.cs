using O8Actors.Providers;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// The parts wired by hand, as src/O8Actors.TestKit/README.md shows them: the code between the README markers is pasted
/// there verbatim (<see cref="The_readme_shows_this_example"/> checks it), so the documented setup is one that works:
/// the sandbox client registers the provider's own redirect URI, not the listener's.
/// </summary>
public sealed class OwnProviderExampleTests
{
    private const string Begin = "// README: own provider, begin\n";
    private const string End = "        // README: own provider, end";

    [Fact]
    public async Task The_parts_wired_by_hand_sign_in()
    {
        // README: own provider, begin
        using var ca = DevelopmentCertificateAuthority.Create();
        using var cert = ca.IssueServerCertificate();               // for the O8Actors listener
        await using var sandbox = await SandboxAuthorizationServer.StartAsync();
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = ca.RootCertificate });
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Browser = browser;
            setup.Options.Listener.Port = 0;                        // a free port
            setup.Options.Listener.Host = "127.0.0.1";              // IPv4 loopback only
            setup.Options.Listener.BindIPv6 = false;
            setup.Options.Certificates.Certificate = cert;
            setup.Options.Certificates.AutoCreate = false;
        });
        await logins.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = "mine", Issuer = sandbox.IssuerString, ClientId = "app",
        }));
        // Register the provider's own redirect URI: the listener's followed by its name (or its RedirectPath).
        var redirectUri = await logins.GetRedirectUriAsync("mine");
        sandbox.RegisterClient("app", null, [redirectUri.OriginalString], ClientAuthMethod.None);

        var tokens = await logins.AuthorizeAsync("mine", new AuthorizationRequest());
        // README: own provider, end

        Assert.True(sandbox.IsActive(tokens.AccessToken));
        Assert.EndsWith("/mine", redirectUri.AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    public void The_readme_shows_this_example()
    {
        var source = RepositoryFiles.ReadText("tests", "O8Actors.TestKit.Tests", "Harness", "OwnProviderExampleTests.cs");
        var start = source.IndexOf(Begin, StringComparison.Ordinal) + Begin.Length;
        var lines = source[start..source.IndexOf(End, start, StringComparison.Ordinal)].TrimEnd('\n').Split('\n');
        // The test's two levels of indentation are not the README's.
        var example = string.Join('\n', lines.Select(line => line.Length >= 8 ? line[8..] : line.TrimStart()));

        Assert.Contains(example, RepositoryFiles.ReadText("src", "O8Actors.TestKit", "README.md"));
    }
}
