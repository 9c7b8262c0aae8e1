using System.CommandLine;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Examples.DeviceLogin;

/// <summary>
/// Signs in on a machine without a browser (RFC 8628): prints the user code, the verification URI and a QR code of the
/// complete URI for a phone, polls until the user answers, then prints when the access token expires (never the token).
/// </summary>
public static class DeviceLoginCommand
{
    /// <summary>The environment variable the client secret is read from when <c>--client-secret</c> is not given.</summary>
    public const string SecretVariable = "O8_CLIENT_SECRET";

    /// <summary>Parses <paramref name="args"/>, runs one device login and returns the exit code (0 signed in, 1 not, 2 cancelled).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="output">Where to write; standard output by default.</param>
    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null)
    {
        var issuer = new Option<string?>("--issuer") { Description = "An OpenID Connect issuer whose metadata has a device_authorization_endpoint; without it, the local sandbox" };
        var clientId = new Option<string?>("--client-id") { Description = "Your OAuth client id at that provider" };
        // No default from the environment: the help would print a default's value, and this one is a secret.
        var clientSecret = new Option<string?>("--client-secret")
        {
            Description = $"Your client secret, if the client has one; better set {SecretVariable} instead (a command line shows in ps and in the shell's history)",
        };
        var scope = new Option<string>("--scope") { Description = "Scopes, space-separated", DefaultValueFactory = _ => "openid profile" };
        var user = new Option<string>("--user")
        {
            Description = "Sandbox only: the scripted user (a name approves; deny…, slow…, expire… refuse, back off or let the code expire)",
            DefaultValueFactory = _ => "alice",
        };
        var noQr = new Option<bool>("--no-qr") { Description = "Do not draw the QR code" };

        var root = new RootCommand("Signs in with the device authorization grant (RFC 8628), for machines without a browser.")
        {
            issuer, clientId, clientSecret, scope, user, noQr,
        };
        output ??= Console.Out;
        root.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(issuer), parse.GetValue(clientId), parse.GetValue(clientSecret) ?? Environment.GetEnvironmentVariable(SecretVariable),
            parse.GetValue(scope)!, parse.GetValue(user)!, !parse.GetValue(noQr), output, cancellationToken));
        // Ctrl+C and SIGTERM cancel the login (it ends as Cancelled and stops polling).
        return root.Parse(args).InvokeAsync(new InvocationConfiguration
        {
            Output = output,
            Error = output,
            ProcessTerminationTimeout = TimeSpan.FromSeconds(5),
        });
    }

    private static async Task<int> RunAsync(string? issuer, string? clientId, string? clientSecret, string scope, string user, bool qrCode,
        TextWriter output, CancellationToken cancellationToken)
    {
        // The sandbox tells logins to poll every second, so the demo is quick; real providers say 5 seconds.
        await using var sandbox = issuer is null
            ? await SandboxAuthorizationServer.StartAsync(new SandboxOptions { DevicePollInterval = TimeSpan.FromSeconds(1) }, cancellationToken)
            : null;
        if (sandbox is not null)
        {
            issuer = sandbox.IssuerString;
            clientId = "device-login-example";
            sandbox.RegisterClient(clientId, null, ["http://localhost/unused"], ClientAuthMethod.None);
        }

        if (string.IsNullOrWhiteSpace(clientId))
        {
            await output.WriteLineAsync("Give --client-id with --issuer (or neither, to try it against the sandbox).");
            return 1;
        }

        try
        {
            await using var logins = await OAuthLogins.StartAsync(setup =>
            {
                // A device login needs no redirect: the listener only has to start, on any free port, without a certificate.
                setup.Options.Listener.Port = 0;
                setup.Options.Listener.Scheme = "http";
            }, cancellationToken);
            await logins.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
            {
                Name = "idp",
                Issuer = issuer!,
                ClientId = clientId,
                ClientSecret = string.IsNullOrEmpty(clientSecret) ? null : clientSecret,
                DefaultScopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            }), cancellationToken);

            // The code, the URL and a QR code when they arrive; a line if the provider makes the login poll less often.
            using var prompt = logins.Events.Subscribe(DeviceCodePrompt.WriteTo(output, qrCode));
            var request = new AuthorizationRequest(
                ExtraParameters: sandbox is null ? null : new Dictionary<string, string> { ["login_hint"] = user })
            {
                Method = LoginMethod.Device,
            };
            var tokens = await logins.AuthorizeAsync("idp", request, cancellationToken);
            await output.WriteLineAsync(tokens.ExpiresAt is { } expiresAt
                ? $"Signed in. The access token expires at {expiresAt:u} (in {(expiresAt - DateTimeOffset.UtcNow).TotalMinutes:0} minutes)."
                : "Signed in. The provider did not say when the access token expires.");
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
        catch (ArgumentException e)
        {
            // A value the library refuses (an issuer that is not an absolute https URL): its message says which.
            await output.WriteLineAsync($"Not signed in: {e.Message}");
            return 1;
        }
    }
}
