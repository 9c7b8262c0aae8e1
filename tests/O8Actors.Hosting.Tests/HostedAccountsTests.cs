using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using O8Actors.Configuration;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Browser;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Accounts through the hosted front: the app's <see cref="ITokenStore"/> from DI keeps them, <c>O8:Tokens:RefreshMargin</c>
/// binds, and the injected <see cref="IOAuthLogins"/> serves, lists and signs out accounts (revoked at the sandbox).
/// </summary>
public sealed class HostedAccountsTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly ScriptedBrowser _browser = new();
    private readonly InMemoryTokenStore _store = new();
    private IHost _host = null!;

    private IOAuthLogins Logins => _host.Services.GetRequiredService<IOAuthLogins>();

    public async ValueTask InitializeAsync()
    {
        _host = await HostedO8.StartWithSandboxAsync(sandbox, _browser, "o8-accounts", settings =>
        {
            settings["O8:Tokens:RefreshMargin"] = "00:00:30";
            // A provider from configuration with fixed endpoints: its revocation endpoint is configured too.
            settings["O8:Providers:sandbox:RevocationEndpoint"] = sandbox.Server.RevocationEndpoint.ToString();
        }, services => services.AddSingleton<ITokenStore>(_store));
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _browser.DisposeAsync();
    }

    [Fact]
    public async Task The_apps_token_store_keeps_the_account_and_the_hosted_front_serves_lists_and_signs_it_out()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(TimeSpan.FromSeconds(30), _host.Services.GetRequiredService<IOptions<O8Options>>().Value.Tokens.RefreshMargin);

        // No key set is configured, so no ID token is validated: the app names the account.
        var request = SandboxFixture.Hint("alice") with { AccountKey = "alice" };
        var outcome = Assert.IsType<LoginSucceeded>(await Logins.RunAsync("sandbox", request, ct).WaitAsync(Wait, ct));
        var account = outcome.Account!;

        Assert.Equal(new OAuthAccount("sandbox", "alice"), account);
        Assert.Equal(outcome.Tokens.RefreshToken, (await _store.LoadAsync(account, ct))!.Tokens.RefreshToken);
        Assert.Equal(outcome.Tokens.AccessToken, (await Logins.GetAccessTokenAsync(account, cancellationToken: ct)).Token);
        Assert.Equal([account], await Logins.GetAccountsAsync("sandbox", ct));

        var result = await Logins.SignOutAsync(account, ct);

        Assert.Equal(RevocationOutcome.Revoked, result.Revocation);
        Assert.False(sandbox.Server.IsRefreshTokenActive(outcome.Tokens.RefreshToken!));
        Assert.Null(await _store.LoadAsync(account, ct));
    }
}
