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

    [Fact]
    public async Task A_device_login_succeeds_without_a_certificate_or_a_bind_and_only_ending_the_provider_session_tries_to_bind()
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync(new SandboxOptions { DevicePollInterval = TimeSpan.FromSeconds(1) });
        var port = FreePorts.Next();
        sandbox.RegisterClient("cli", null, [$"https://localhost:{port}/sandbox"], ClientAuthMethod.None);
        var folder = Path.Combine(Path.GetTempPath(), "o8-nocert-" + Guid.NewGuid().ToString("N"));
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Start = ListenerStart.OnFirstUse;
            setup.Options.Listener.Port = port;
            setup.Options.Certificates = new CertificateOptions { Folder = folder, AutoCreate = false };
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

        // Ending the provider's session needs the browser to come back: that binds, and here meets the missing certificate.
        var signedOut = await logins.SignOutAsync(succeeded.Account!, SignOutOptions.EndingProviderSession).WaitAsync(Wait);

        Assert.Equal(ProviderSessionOutcome.Failed, signedOut.ProviderSession);
        Assert.Contains(Path.Combine(folder, "localhost.pem"), signedOut.ProviderSessionReason);
        Assert.IsType<CertificateNotFoundException>((await logins.GetStatusAsync()).ListenerFailure);
        Assert.True(FreePorts.IsFree(port));
    }
}
