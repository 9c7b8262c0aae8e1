// One login through the packed O8Actors and O8Actors.TestKit, as an app that installed them would run it: a sandbox
// authorization server, an OAuthLogins orchestrator with its HTTPS loopback listener (development-CA certificate), the
// scripted browser, and the sandbox as an OpenID Connect provider. Exit code 0 only when the login succeeded and the
// sandbox knows the access token it returned.
using System.Reflection;
using O8Actors;
using O8Actors.Providers;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;

const string ClientId = "package-smoke";

try
{
    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(45));
    var ct = deadline.Token;
    Console.WriteLine($"O8Actors {Version(typeof(OAuthLogins))}, O8Actors.TestKit {Version(typeof(SandboxAuthorizationServer))}");

    using var ca = DevelopmentCertificateAuthority.Create();
    using var certificate = ca.IssueServerCertificate();
    await using var sandbox = await SandboxAuthorizationServer.StartAsync(cancellationToken: ct);
    await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = ca.RootCertificate });

    await using var logins = await OAuthLogins.StartAsync(setup =>
    {
        setup.Browser = browser;
        setup.Options.Listener.Port = 0;                       // a free port
        setup.Options.Certificates.Certificate = certificate;
        setup.Options.Certificates.AutoCreate = false;
        setup.Options.Login.Timeout = TimeSpan.FromSeconds(30);
    }, ct);

    await logins.RegisterProviderAsync(new OidcDiscoveryStrategy(new OidcDiscoveryOptions
    {
        Name = "sandbox",
        Issuer = sandbox.IssuerString,
        ClientId = ClientId,
        DefaultScopes = ["openid"],
    }), ct);
    // The provider's own redirect URI (the listener's, once bound, followed by its name); the sandbox accepts only
    // registered ones.
    var redirectUri = await logins.GetRedirectUriAsync("sandbox", ct);
    sandbox.RegisterClient(ClientId, secret: null, [redirectUri.ToString()], ClientAuthMethod.None);

    var outcome = await logins.RunAsync("sandbox", cancellationToken: ct);
    if (outcome is not LoginSucceeded succeeded)
    {
        Console.Error.WriteLine($"package smoke: FAILED, the login ended as {outcome.GetType().Name}");
        return 1;
    }

    var tokens = succeeded.Tokens;
    var active = sandbox.IsActive(tokens.AccessToken);
    var signed = tokens.IdToken is { } idToken && sandbox.VerifyIdTokenSignature(idToken);
    if (!active || !signed)
    {
        Console.Error.WriteLine($"package smoke: FAILED, access token active: {active}, ID token signed by the sandbox: {signed}");
        return 1;
    }

    Console.WriteLine($"package smoke: passed, one login through {redirectUri} signed in at {sandbox.Issuer}");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"package smoke: FAILED, {e.GetType().Name}: {e.Message}");
    return 1;
}

static string Version(Type type) =>
    type.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
