using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Examples.HostedApp;

/// <summary>
/// Starts a few logins at once through the injected <see cref="IOAuthLogins"/>, logs how each ended, calls the
/// provider's userinfo endpoint as each signed-in account (an <c>IHttpClientFactory</c> client with
/// <c>AddOAuthAccessToken</c>), then stops the app.
/// </summary>
internal sealed class LoginWorker(IOAuthLogins logins, IConfiguration configuration, IServiceProvider services, IHttpClientFactory http,
    IHostApplicationLifetime lifetime, ILogger<LoginWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Demo:Provider names the configured provider to sign in with: the sandbox in demo mode, a real one otherwise.
        var provider = configuration["Demo:Provider"] is { Length: > 0 } configured ? configured : "sandbox";
        // The provider's own redirect URI (the listener's followed by its name), registered with it.
        var redirect = await logins.GetRedirectUriAsync(provider, stoppingToken);
        log.LogInformation("Redirect URI (register it with your provider): {RedirectUri}", redirect);
        var sandbox = services.GetService<SandboxAuthorizationServer>();
        if (sandbox is not null)
            sandbox.RegisterClient(configuration[$"O8:Providers:{provider}:ClientId"]!, null, [redirect.ToString()], ClientAuthMethod.None);

        using var progress = logins.Events.Subscribe(new ProgressLog(log));
        var users = configuration.GetSection("Demo:Users").Get<string[]>() ?? ["alice"];
        var running = users.Select(async user =>
        {
            // The account is keyed by the name this app asked for: the sandbox signs in the hinted user, so it is theirs. A
            // login_hint is only a hint to a real provider (the browser's session may be another user's): a real app keys
            // its accounts by what the provider confirms, a validated ID token's sub (OidcDiscoveryStrategy, or a JWKS
            // URI) or the provider's own user API, not by the name it hoped for.
            var request = new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = user }) { AccountKey = user };
            var outcome = await logins.RunAsync(provider, request, stoppingToken);
            // Never log a token: the outcome kind, and whether a refresh token came, is all the log needs.
            log.LogInformation("Login for {User} ended {Outcome}{Detail}", user, outcome.Kind,
                outcome is LoginSucceeded s ? $" (refresh token: {s.Tokens.CanRefresh})" : outcome is LoginDenied d ? $" ({d.Error})" : "");
            if (outcome is LoginSucceeded { Account: { } account } && sandbox is not null)
                await CallUserInfoAsync(sandbox.UserInfoEndpoint, account, stoppingToken);
        });
        await Task.WhenAll(running);
        lifetime.StopApplication();
    }

    /// <summary>Calls the userinfo endpoint as <paramref name="account"/>: the "userinfo" client adds its access token.</summary>
    private async Task CallUserInfoAsync(Uri userInfo, OAuthAccount account, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, userInfo);
        request.Options.Set(AccessTokenHandler.AccountOption, account);
        using var response = await http.CreateClient("userinfo").SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var claims = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        log.LogInformation("Called userinfo as {Account}: sub = {Subject}", account, claims.GetProperty("sub").GetString());
    }

    private sealed class ProgressLog(ILogger log) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value) => log.LogDebug("{Event} for login {LoginId}", value.GetType().Name, value.LoginId);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
