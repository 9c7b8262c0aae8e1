using O8Actors.Browser;
using O8Actors.Configuration;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// A CLI on a server or over SSH: <c>o8.listener.start = on-first-use</c>, a fixed port and no certificate anywhere.
/// <c>OAuthLogins.StartAsync</c> succeeds, and a device login (RFC 8628) against the sandbox signs in without binding anything;
/// only a sign-out that ends the provider's session tries to bind, and fails as a start would have.
/// </summary>
public sealed class DeviceLoginOnFirstUseTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    /// <summary>A CLI's orchestrator on <paramref name="port"/>, binding on first use, with no certificate in <paramref name="folder"/> and none made.</summary>
    private static Task<OAuthLogins> StartWithoutACertificateAsync(int port, string folder, Action<OAuthLoginsSetup> configure) =>
        OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Start = ListenerStart.OnFirstUse;
            setup.Options.Listener.Port = port;
            setup.Options.Certificates = new CertificateOptions { Folder = folder, AutoCreate = false };
            configure(setup);
        });

    /// <summary>
    /// Ending the provider's session needs the browser to come back, so it binds: with a browser that could open, it
    /// meets the missing certificate; over SSH, where none can, it fails at once saying so, and binds nothing (it used to
    /// bind first, and reported the missing certificate for what no browser could have done anyway).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_device_login_succeeds_without_a_certificate_or_a_bind_and_only_ending_the_provider_session_tries_to_bind(bool browserCouldOpen)
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync(new SandboxOptions { DevicePollInterval = TimeSpan.FromSeconds(1) });
        var port = FreePorts.Next();
        sandbox.RegisterClient("cli", null, [$"https://localhost:{port}/sandbox"], ClientAuthMethod.None);
        var folder = Path.Combine(Path.GetTempPath(), "o8-nocert-" + Guid.NewGuid().ToString("N"));
        await using var logins = await StartWithoutACertificateAsync(port, folder, setup =>
        {
            setup.Browser = browserCouldOpen ? new CouldOpenABrowser() : new NoBrowserHere();
            setup.Providers.Add(new OidcDiscoveryStrategy(new OidcDiscoveryOptions { Name = "sandbox", Issuer = sandbox.IssuerString, ClientId = "cli" }));
        });

        var outcome = await logins.RunAsync("sandbox",
            new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "alice" }) { Method = LoginMethod.Device }).WaitAsync(Wait);

        var succeeded = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal(0, sandbox.Counters.AuthorizeRequests);
        var token = await logins.GetAccessTokenAsync(succeeded.Account!).WaitAsync(Wait);
        Assert.Equal(succeeded.Tokens.AccessToken, token.Token);
        Assert.True(FreePorts.IsFree(port), "nothing bound the port");
        var status = await logins.GetStatusAsync();
        Assert.False(status.ListenerBound);
        Assert.Null(status.ListenerFailure);

        var signedOut = await logins.SignOutAsync(succeeded.Account!, SignOutOptions.EndingProviderSession).WaitAsync(Wait);

        Assert.Equal(ProviderSessionOutcome.Failed, signedOut.ProviderSession);
        if (browserCouldOpen)
        {
            Assert.Contains(Path.Combine(folder, "localhost.pem"), signedOut.ProviderSessionReason);
            Assert.IsType<CertificateNotFoundException>((await logins.GetStatusAsync()).ListenerFailure);
        }
        else
        {
            Assert.Contains("No browser can be opened here (no display)", signedOut.ProviderSessionReason);
            Assert.Null((await logins.GetStatusAsync()).ListenerFailure);
        }
        Assert.True(FreePorts.IsFree(port));
    }

    /// <summary>
    /// The same CLI with the GitHub preset and no client secret (a public client, whose browser logins GitHub never
    /// redeems), on a machine where a browser could open. An Auto login used to bind the listener before it asked the
    /// provider, so it failed on the missing certificate and never reached the device grant; and a mistyped provider
    /// name was reported as the missing certificate. The provider is asked first now: the Auto login signs in with the
    /// device grant, the typo is named, and nothing binds the port.
    /// </summary>
    [Fact]
    public async Task Before_the_listener_binds_the_provider_is_asked_so_an_Auto_login_reaches_the_device_grant_and_a_typo_is_named()
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync(new SandboxOptions { DevicePollInterval = TimeSpan.FromSeconds(1) });
        var port = FreePorts.Next();
        sandbox.RegisterClient("gh-cli", null, [$"https://localhost:{port}/github"], ClientAuthMethod.None);
        var folder = Path.Combine(Path.GetTempPath(), "o8-nocert-" + Guid.NewGuid().ToString("N"));
        await using var logins = await StartWithoutACertificateAsync(port, folder, setup =>
        {
            setup.Browser = new CouldOpenABrowser();
            setup.Providers.Add(ProviderPresets.GitHub("gh-cli", configure: o =>
            {
                o.AuthorizationEndpoint = sandbox.AuthorizationEndpoint;
                o.TokenEndpoint = sandbox.TokenEndpoint;
                o.DeviceAuthorizationEndpoint = sandbox.DeviceAuthorizationEndpoint;
                o.Issuer = sandbox.IssuerString;
            }));
        });

        var auto = await logins.RunAsync("github",
            new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "octocat" }) { Method = LoginMethod.Auto }).WaitAsync(Wait);
        var typo = await Assert.ThrowsAsync<UnknownProviderException>(() => logins.AuthorizeAsync("githbu").WaitAsync(Wait));

        var signedIn = Assert.IsType<LoginSucceeded>(auto);
        Assert.True(sandbox.IsActive(signedIn.Tokens.AccessToken));
        Assert.Equal(1, sandbox.Counters.DeviceCodesIssued);
        Assert.Contains("githbu", typo.Message);
        Assert.True(FreePorts.IsFree(port), "nothing bound the port");
        Assert.Null((await logins.GetStatusAsync()).ListenerFailure);
    }

    /// <summary>A machine without a display (a server, an SSH session): it says so before anything is launched.</summary>
    private sealed class NoBrowserHere : IBrowserLauncher, IBrowserAvailability
    {
        public string? UnavailableReason => "no display";

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
            Task.FromResult(BrowserLaunchResult.NotLaunched("no display"));
    }

    /// <summary>A launcher on a machine with a display (it says nothing of its availability); it opens nothing.</summary>
    private sealed class CouldOpenABrowser : IBrowserLauncher
    {
        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) =>
            Task.FromResult(new BrowserLaunchResult(true, "not opened: a test"));
    }
}
