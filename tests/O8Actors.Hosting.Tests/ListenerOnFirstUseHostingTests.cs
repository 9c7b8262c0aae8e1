using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using O8Actors.Configuration;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// <c>O8:Listener:Start</c> from IConfiguration: a hosted app that binds its listener on first use starts with neither its
/// port nor a certificate, and its device logins, cached tokens and local sign-outs never bind it.
/// </summary>
public sealed class ListenerOnFirstUseHostingTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("on-first-use")]
    [InlineData("OnFirstUse")]
    [InlineData("onfirstuse")]
    public void Either_spelling_binds(string value)
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Listener:Start"] = value;
        using var host = HostedO8.Build(settings);

        Assert.Equal(ListenerStart.OnFirstUse, host.Services.GetRequiredService<IOptions<O8Options>>().Value.Listener.Start);
    }

    [Theory]
    [InlineData("while-needed")]
    [InlineData("WhileNeeded")]
    public async Task While_needed_binds_nothing_at_start_and_the_host_reports_healthy_meanwhile(string value)
    {
        var ct = TestContext.Current.CancellationToken;
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Listener:Start"] = value;
        using var host = HostedO8.Build(settings, systemName: "o8-while-needed");
        Assert.Equal(ListenerStart.WhileNeeded, host.Services.GetRequiredService<IOptions<O8Options>>().Value.Listener.Start);
        await host.StartAsync(ct);
        try
        {
            var health = (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct)).Entries["o8actors"];

            // Unbound is what the setting asks for between sign-ins, not a fault.
            Assert.Equal(HealthStatus.Healthy, health.Status);
            Assert.Equal(false, health.Data["listener_bound"]);
            Assert.Contains("while-needed", health.Description, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync(ct);
        }
    }

    [Fact]
    public async Task On_first_use_is_refused_in_server_mode()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Listener:Start"] = "on-first-use";
        settings["O8:Listener:ExternalRedirectUri"] = "https://app.example.com/oauth/callback";
        using var host = HostedO8.Build(settings);

        var error = await Assert.ThrowsAsync<O8ConfigurationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal("O8:Listener:Start", error.ConfigurationKey);
        Assert.Contains("server mode", error.Message);
    }

    [Fact]
    public async Task A_device_login_without_a_certificate_binds_nothing_and_neither_do_its_cached_token_and_sign_out()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = SandboxFixture.FreePort();
        var clientId = "o8-first-use-" + Guid.NewGuid().ToString("N");
        // The redirect URI it would have: a device login never sends it.
        sandbox.Server.RegisterClient(clientId, null, [$"https://127.0.0.1:{port}/sandbox"], ClientAuthMethod.None);
        var settings = HostedO8.SandboxSettings(sandbox, clientId);
        settings["O8:Listener:Start"] = "on-first-use";
        settings["O8:Listener:Scheme"] = "https";
        settings["O8:Listener:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["O8:Certificates:Folder"] = Path.Combine(Path.GetTempPath(), "o8-nocert-" + Guid.NewGuid().ToString("N"));
        settings["O8:Certificates:AutoCreate"] = "false";
        using var host = HostedO8.Build(settings, systemName: "o8-first-use-device");
        await host.StartAsync(ct);
        try
        {
            var logins = host.Services.GetRequiredService<IOAuthLogins>();
            var health = (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct)).Entries["o8actors"];
            Assert.Equal(HealthStatus.Healthy, health.Status);
            Assert.Equal(false, health.Data["listener_bound"]);

            var outcome = await logins.RunAsync("sandbox", SandboxFixture.Hint("alice") with { Method = LoginMethod.Device, AccountKey = "alice-cli" }, ct).WaitAsync(Wait, ct);
            var succeeded = Assert.IsType<LoginSucceeded>(outcome);
            var account = Assert.IsType<OAuthAccount>(succeeded.Account);
            var token = await logins.GetAccessTokenAsync(account, cancellationToken: ct).WaitAsync(Wait, ct);
            Assert.Equal(succeeded.Tokens.AccessToken, token.Token);
            await logins.SignOutAsync(account, ct).WaitAsync(Wait, ct);

            Assert.True(FreePorts.IsFree(port), "nothing bound the port");
            var status = await logins.GetStatusAsync(ct);
            Assert.False(status.ListenerBound);
            Assert.Null(status.RedirectUri);
            Assert.Null(status.ListenerFailure);
        }
        finally
        {
            await host.StopAsync(ct);
        }
    }
}
