using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Browser;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// <c>Preset: github</c> from configuration without <c>ClientSecret</c> is a public client for device logins: GitHub
/// refuses a browser login's code without the secret, so a browser login is refused at its start and opens no browser.
/// </summary>
public sealed class ConfiguredGitHubWithoutSecretTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_browser_login_is_refused_at_once_without_ClientSecret_and_opens_the_browser_with_one()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:github:Preset"] = "github";
        settings["O8:Providers:github:ClientId"] = "gh-cli";
        settings["O8:Providers:github-web:Preset"] = "github";
        settings["O8:Providers:github-web:ClientId"] = "gh-web";
        settings["O8:Providers:github-web:ClientSecret"] = "gh-web-secret";
        var browser = new RecordingLauncher();
        using var host = HostedO8.Build(settings, o => o.Browser = _ => browser, "o8-github-without-secret");
        await host.StartAsync(TestContext.Current.CancellationToken);
        var logins = host.Services.GetRequiredService<IOAuthLogins>();
        // Far longer than the test waits: a login refused within Wait was refused at its start.
        var request = new AuthorizationRequest(Timeout: TimeSpan.FromMinutes(10)) { Method = LoginMethod.Browser };

        var outcome = await logins.RunAsync("github", request, TestContext.Current.CancellationToken).WaitAsync(Wait, TestContext.Current.CancellationToken);

        var refused = Assert.IsType<LoginFailed>(outcome);
        Assert.Equal(LoginFailure.ProviderUnavailable, refused.Failure);
        Assert.Contains("Give the provider its client secret", refused.Reason);
        Assert.Empty(browser.Opened);

        // With ClientSecret the same preset opens the browser at GitHub.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var login = logins.RunAsync("github-web", request, cancel.Token);
        await browser.FirstLaunch.Task.WaitAsync(Wait, TestContext.Current.CancellationToken);
        await cancel.CancelAsync();
        Assert.IsType<LoginCancelled>(await login.WaitAsync(Wait, TestContext.Current.CancellationToken));
        Assert.Equal("github.com", Assert.Single(browser.Opened).Host);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Records the URLs it is asked to open and opens none.</summary>
    private sealed class RecordingLauncher : IBrowserLauncher
    {
        public ConcurrentQueue<Uri> Opened { get; } = new();

        public TaskCompletionSource FirstLaunch { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            Opened.Enqueue(authorizeUrl);
            FirstLaunch.TrySetResult();
            return Task.FromResult(BrowserLaunchResult.Opened("recording"));
        }
    }
}
