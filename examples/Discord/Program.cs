using O8Actors;
using O8Actors.Examples.Discord;
using O8Actors.Providers;

// Connects a Discord account, as the original orchestr8 example does.
// Register the redirect URIs of your Discord application: https://localhost:41539/ for the OAuthFlow port (the default
// run) and https://localhost:41539/discord for the preset (--preset: each provider has its own path), then:
//   DISCORD_CLIENT_ID=… DISCORD_CLIENT_SECRET=… dotnet run --project examples/Discord [-- [--preset] [--sign-out]]
// The account is kept (encrypted) in the user's data folder: a second run reuses it without the browser.
var clientId = Environment.GetEnvironmentVariable("DISCORD_CLIENT_ID");
var clientSecret = Environment.GetEnvironmentVariable("DISCORD_CLIENT_SECRET");
if (string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(clientSecret))
{
    Console.Error.WriteLine("Set DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET (https://discord.com/developers/applications),");
    Console.Error.WriteLine("and add https://localhost:41539/ (and, for --preset, https://localhost:41539/discord) to the application's OAuth2 redirects.");
    return 2;
}

// Ctrl+C cancels the login (it ends as Cancelled) instead of killing the process mid-way.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    if (args.Contains("--preset"))
    {
        // The same login through the built-in Discord preset and the IOAuthLogins facade.
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Providers.Add(ProviderPresets.Discord(clientId, clientSecret));
            setup.TokenStore = new FileTokenStore(); // the account survives the run (encrypted, in the user's data folder)
        }, cancel.Token);
        // The preset's own redirect URI (the listener's followed by its name), not the port's bare one.
        Console.WriteLine($"Redirect URI (register it with your Discord application): {await logins.GetRedirectUriAsync("discord", cancel.Token)}");
        var account = (await logins.GetAccountsAsync("discord", cancel.Token)).FirstOrDefault();
        if (args.Contains("--sign-out"))
        {
            // Asked to sign out, never to sign in: without a saved account there is nothing to do.
            Console.WriteLine(account is null
                ? "No saved Discord account: nothing to sign out."
                : $"Signed out ({(await logins.SignOutAsync(account, cancel.Token)).Revocation}).");
            return 0;
        }

        if (account is not null)
        {
            var token = await logins.GetAccessTokenAsync(account, options: AccessTokenOptions.Interactive, cancellationToken: cancel.Token);
            Console.WriteLine($"Reused the cached account {account.Key}: {token}");
        }
        else
        {
            // Discord issues no ID token, so the app names the account.
            var request = new AuthorizationRequest(["identify", "messages.read"], TimeSpan.FromSeconds(60)) { AccountKey = "default" };
            var tokens = await logins.AuthorizeAsync("discord", request, cancel.Token);
            Console.WriteLine($"Signed in: {tokens}");
        }
    }
    else
    {
        var discordFlow = new DiscordOAuthFlow(clientId, clientSecret, userScopes: "identify messages.read");
        try
        {
            if (args.Contains("--sign-out"))
            {
                Console.WriteLine($"Signed out ({(await discordFlow.SignOutAsync(cancel.Token)).Revocation}).");
                return 0;
            }

            try
            {
                // A second run finds the account of the first: no browser.
                var cached = await discordFlow.GetAccessTokenAsync(allowInteraction: false, cancellationToken: cancel.Token);
                Console.WriteLine($"Reused the cached Discord account; the access token has {cached.Token.Length} characters.");
            }
            catch (InteractionRequiredException)
            {
                var accessToken = await discordFlow.AuthorizeAsync(timeoutSeconds: 30, cancel.Token);
                Console.WriteLine($"Signed in; the access token has {accessToken.Length} characters.");
            }
        }
        finally
        {
            await OAuthFlow.ShutdownSharedAsync();
        }
    }
    return 0;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("Cancelled.");
    return 130;
}
catch (OAuthFlowException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
