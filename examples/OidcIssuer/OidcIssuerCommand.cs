using System.CommandLine;
using O8Actors.Browser;
using O8Actors.Providers;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Examples.OidcIssuer;

/// <summary>
/// Signs in with any OpenID Connect provider configured from nothing but its issuer URL: endpoints, PKCE methods and
/// RFC 9207 support come from its discovery document (<see cref="OidcDiscoveryStrategy"/>).
/// </summary>
public static class OidcIssuerCommand
{
    /// <summary>Parses <paramref name="args"/>, runs one login and returns the exit code (0 signed in, 1 not).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="output">Where to write; standard output by default.</param>
    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null)
    {
        var issuer = new Option<string?>("--issuer") { Description = "The provider's issuer URL, e.g. https://accounts.google.com" };
        var clientId = new Option<string?>("--client-id") { Description = "Your OAuth client id at that provider" };
        var clientSecret = new Option<string?>("--client-secret")
        {
            Description = "Your client secret, if the client has one [default: $O8_CLIENT_SECRET]",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("O8_CLIENT_SECRET"),
        };
        var scope = new Option<string>("--scope") { Description = "Scopes, space-separated", DefaultValueFactory = _ => "openid profile" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the browser", DefaultValueFactory = _ => 120 };
        var port = new Option<int>("--port") { Description = "Listener port (0 picks a free one)", DefaultValueFactory = _ => 41539 };
        var http = new Option<bool>("--http") { Description = "Plain http://localhost redirect instead of HTTPS (RFC 8252 section 7.3)" };
        var sandbox = new Option<bool>("--sandbox") { Description = "Run against a local OpenID Connect sandbox with a scripted user" };

        var root = new RootCommand("Signs in with an OpenID Connect provider configured from its issuer URL.")
        {
            issuer, clientId, clientSecret, scope, timeout, port, http, sandbox,
        };
        output ??= Console.Out;
        root.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(sandbox), parse.GetValue(issuer), parse.GetValue(clientId), parse.GetValue(clientSecret),
            parse.GetValue(scope)!, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(port), parse.GetValue(http), output, cancellationToken));
        // Ctrl+C and SIGTERM cancel the login (it ends as Cancelled); the timeout bounds how long stopping may take.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration
        {
            Output = output,
            Error = output,
            ProcessTerminationTimeout = TimeSpan.FromSeconds(5),
        });
    }

    /// <summary>The provider's <c>userinfo_endpoint</c> from its discovery document, if it names one.</summary>
    private static async Task<int> RunAsync(bool useSandbox, string? issuer, string? clientId, string? clientSecret, string scope,
        TimeSpan timeout, int port, bool plainHttp, TextWriter output, CancellationToken cancellationToken)
    {
        await using var sandbox = useSandbox ? await SandboxAuthorizationServer.StartAsync(cancellationToken: cancellationToken) : null;
        await using var scriptedUser = useSandbox ? new ScriptedBrowser() : null;
        if (sandbox is not null)
        {
            issuer = sandbox.IssuerString;
            clientId = "oidc-issuer-example";
            plainHttp = true; // the scripted user needs no certificate; with a real browser, mkcert's HTTPS is the default
        }

        if (string.IsNullOrWhiteSpace(issuer) || string.IsNullOrWhiteSpace(clientId))
        {
            await output.WriteLineAsync("Give --issuer and --client-id (or --sandbox to try it without an account).");
            return 1;
        }

        try
        {
            await using var logins = await OAuthLogins.StartAsync(setup =>
            {
                setup.Options.Listener.Port = port;
                if (plainHttp) setup.Options.Listener.Scheme = "http";
                if (scriptedUser is not null) setup.Browser = scriptedUser;
            }, cancellationToken);

            await logins.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
            {
                Name = "oidc",
                Issuer = issuer,
                ClientId = clientId,
                ClientSecret = string.IsNullOrEmpty(clientSecret) ? null : clientSecret,
                DefaultScopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            }), cancellationToken);

            // Each provider has its own redirect URI: the listener's followed by the provider's name.
            var redirectUri = await logins.GetRedirectUriAsync("oidc", cancellationToken);
            await output.WriteLineAsync($"Redirect URI (register it with the provider): {redirectUri}");
            sandbox?.RegisterClient(clientId, null, [redirectUri.AbsoluteUri], ClientAuthMethod.None);

            var tokens = await logins.AuthorizeAsync("oidc", new AuthorizationRequest(Timeout: timeout), cancellationToken);
            await output.WriteLineAsync($"Signed in at {issuer}: {tokens}");

            // Then the user's claims from the provider's UserInfo endpoint, with the account's token; O8Actors uses them
            // only when their sub is the ID token's.
            if ((await logins.GetAccountsAsync("oidc", cancellationToken)).FirstOrDefault() is { } account)
            {
                try
                {
                    var me = await logins.GetUserInfoAsync(account, cancellationToken);
                    await output.WriteLineAsync($"UserInfo of {account}: sub = {me.Subject}, {me.All.Count} claims");
                }
                catch (UserInfoException e)
                {
                    await output.WriteLineAsync($"No UserInfo for {account}: {e.Message}");
                }
            }

            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync("Cancelled: the login ended as cancelled.");
            return 2;
        }
        catch (OAuthFlowException e)
        {
            await output.WriteLineAsync($"Not signed in: {e.Message}");
            return 1;
        }
    }
}
