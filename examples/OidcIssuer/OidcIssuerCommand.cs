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
    /// <summary>The environment variable the client secret is read from when <c>--client-secret</c> is not given.</summary>
    public const string SecretVariable = "O8_CLIENT_SECRET";

    /// <summary>Parses <paramref name="args"/>, runs one login and returns the exit code (0 signed in, 1 not, 2 cancelled).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="output">Where to write; standard output by default.</param>
    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null)
    {
        var issuer = new Option<string?>("--issuer") { Description = "The provider's issuer URL, e.g. https://accounts.google.com" };
        var clientId = new Option<string?>("--client-id") { Description = "Your OAuth client id at that provider" };
        // No default from the environment: the help would print a default's value, and this one is a secret.
        var clientSecret = new Option<string?>("--client-secret")
        {
            Description = $"Your client secret, if the client has one; better set {SecretVariable} instead (a command line shows in ps and in the shell's history)",
        };
        var scope = new Option<string>("--scope") { Description = "Scopes, space-separated", DefaultValueFactory = _ => "openid profile" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the browser", DefaultValueFactory = _ => 120 };
        var port = new Option<int?>("--port") { Description = $"Listener port (0 picks a free one); default {RegisteredPort}, with --sandbox a free one" };
        var http = new Option<bool>("--http") { Description = "Plain http://localhost redirect instead of HTTPS (RFC 8252 section 7.3)" };
        var sandbox = new Option<bool>("--sandbox") { Description = "Run against a local OpenID Connect sandbox with a scripted user" };

        var root = new RootCommand("Signs in with an OpenID Connect provider configured from its issuer URL.")
        {
            issuer, clientId, clientSecret, scope, timeout, port, http, sandbox,
        };
        output ??= Console.Out;
        root.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(sandbox), parse.GetValue(issuer), parse.GetValue(clientId), parse.GetValue(clientSecret) ?? Environment.GetEnvironmentVariable(SecretVariable),
            parse.GetValue(scope)!, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(port), parse.GetValue(http), output, cancellationToken));
        // Ctrl+C and SIGTERM cancel the login (it ends as Cancelled); the timeout bounds how long stopping may take.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration
        {
            Output = output,
            Error = output,
            ProcessTerminationTimeout = TimeSpan.FromSeconds(5),
        });
    }

    /// <summary>The port a real provider's registered redirect URI names: fixed, so the URI stays the same from run to run.</summary>
    private const int RegisteredPort = 41539;

    private static async Task<int> RunAsync(bool useSandbox, string? issuer, string? clientId, string? clientSecret, string scope,
        TimeSpan timeout, int? givenPort, bool plainHttp, TextWriter output, CancellationToken cancellationToken)
    {
        // The sandbox registers whatever redirect URI this run has, so it takes a free port: two runs side by side work.
        var port = givenPort ?? (useSandbox ? 0 : RegisteredPort);
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
        catch (ListenerPortInUseException)
        {
            await output.WriteLineAsync($"Not signed in: port {port} is in use. Pass --port with another one (and register that redirect URI " +
                "with the provider), or --port 0 if the provider accepts any loopback port (RFC 8252 section 7.3).");
            return 1;
        }
        catch (CertificateNotFoundException e)
        {
            await output.WriteLineAsync($"Not signed in: no certificate for the HTTPS redirect. Run 'mkcert -install' once, or pass --http. ({e.Message})");
            return 1;
        }
        catch (OAuthFlowException e)
        {
            await output.WriteLineAsync($"Not signed in: {e.Message}");
            return 1;
        }
        catch (ArgumentException e)
        {
            // A value the library refuses (an issuer that is not an absolute https URL, a timeout of 0): its message says which.
            await output.WriteLineAsync($"Not signed in: {e.Message}");
            return 1;
        }
    }
}
