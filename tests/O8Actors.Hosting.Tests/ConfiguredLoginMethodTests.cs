using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// <c>O8:Login:Method</c>: the method of every login whose request names none (an app that may run headless sets it
/// once), while server mode keeps signing the user's own browser in.
/// </summary>
public sealed class ConfiguredLoginMethodTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_login_that_names_no_method_runs_the_configured_device_grant()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var browser = new ScriptedBrowser();
        using var host = await HostedO8.StartWithSandboxAsync(sandbox, browser, "o8-method-device",
            settings => settings["O8:Login:Method"] = "device");
        var logins = host.Services.GetRequiredService<IOAuthLogins>();
        var authorizeBefore = sandbox.Server.Counters.AuthorizeRequests;
        var events = new LoginEventRecorder();
        using var _ = logins.Events.Subscribe(events);

        var outcome = await logins.RunAsync("sandbox", SandboxFixture.Hint("dora"), ct).WaitAsync(Wait, ct);

        var succeeded = Assert.IsType<LoginSucceeded>(outcome);
        Assert.Equal("dora", SandboxFixture.Subject(succeeded.Tokens.IdToken!));
        Assert.Equal(LoginMethod.Device, (await events.WaitForAsync<LoginMethodChosenEvent>(timeout: Wait, cancellationToken: ct)).Method);
        // No browser was sent to the authorize endpoint: the device grant signed dora in.
        Assert.Equal(authorizeBefore, sandbox.Server.Counters.AuthorizeRequests);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task Server_mode_signs_the_users_browser_in_whatever_method_is_configured()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = sandbox.ServerModeApp("o8-method-server", new Dictionary<string, string?> { ["O8:Login:Method"] = "Device" });
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        await using var app = builder.Build();
        Task<LoginOutcome>? login = null;
        app.MapOAuthCallback("/oauth/callback");
        app.MapPost("/connect", async (HttpContext context, IOAuthConnector connector) =>
        {
            var pending = await connector.BeginAsync(context, "sandbox", SandboxFixture.Hint("erin"));
            login = pending.Outcome;
            return Results.Redirect(pending.AuthorizeUrl.ToString());
        });
        await app.StartAsync(ct);
        try
        {
            using var http = sandbox.Browser();
            using var connect = await http.PostAsync(new Uri(callback, "/connect"), null, ct);
            Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            using var authorize = await http.GetAsync(connect.Headers.Location, ct);
            using var landing = await http.GetAsync(authorize.Headers.Location, ct);
            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);

            var succeeded = Assert.IsType<LoginSucceeded>(await login!.WaitAsync(Wait, ct));
            Assert.Equal("erin", SandboxFixture.Subject(succeeded.Tokens.IdToken!));
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }
}
