// O8Actors in server mode: a web back end connects accounts for its signed-in users. The callback is part of this app's
// own pipeline (MapOAuthCallback) instead of a loopback listener; POST /connect/{provider} answers 302 to the provider's
// authorize URL and sets that login's browser-binding cookie; the provider sends the user back to /oauth/callback,
// routed by state to the login, which goes on only if this browser presents the cookie (a forwarded link links nothing).
// Users sign in with ASP.NET Core cookie authentication against a demo user list (Demo:Users in appsettings.json).
//
// With Demo:Sandbox (on in appsettings.json; off unless configured) an in-process sandbox provider stands in for a real
// one, so it runs without accounts:
//   dotnet run --project examples/WebConnect        then open https://localhost:5443/ and sign in as alice (alice-demo)
// The same app as a local three-node Akka.NET cluster behind a YARP proxy on the same public address (ClusterMode.cs):
//   dotnet run --project examples/WebConnect -- --cluster 3
// HTTPS uses mkcert's localhost certificate when present (see DemoCertificate.cs; otherwise an untrusted demo CA whose
// root file the log names). With curl (cookies in a jar; the forms need their antiforgery token):
//   curl --cacert <root> -c jar -b jar https://localhost:5443/login                   → the form; copy its token
//   curl ... -X POST -d 'user=alice&password=alice-demo&__RequestVerificationToken=…' https://localhost:5443/login
//   curl ... https://localhost:5443/    → your connections and the Connect form (its token), then POST /connect/sandbox
//   follow the two Location headers (sandbox, then /oauth/callback) with the same jar   → 200 "You are signed in"
using O8Actors.Examples.WebConnect;

// A bad argument (--cluster 10, --urls with http) is said in one line, not as an unhandled exception's stack trace.
int? nodes;
try
{
    nodes = ClusterMode.NodeCount(args);
}
catch (ArgumentException e)
{
    return Fail(e.Message);
}

if (nodes is { } count) return await ClusterMode.RunAsync(args, count);

var builder = WebApplication.CreateBuilder(args);
O8Actors.TestKit.Sandbox.SandboxAuthorizationServer? sandbox;
Dictionary<string, string?> sharedSettings;
try
{
    (sandbox, sharedSettings) = await DemoSandbox.StartIfEnabledAsync(builder.Configuration);
}
catch (InvalidOperationException e)
{
    return Fail(e.Message);
}

await using (sandbox)
{
    builder.Configuration.AddInMemoryCollection(sharedSettings);

    // HTTPS only: the login's binding cookie and the sign-in cookie are __Host- cookies, which need Secure.
    using (var startupLog = LoggerFactory.Create(l => l.AddConsole()))
    {
        var certificate = DemoCertificate.Load(startupLog.CreateLogger("WebConnect"));
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
    }

    WebConnectApp.AddServices(builder, "web-connect", new Connections());
    var app = builder.Build();
    WebConnectApp.Map(app);
    await app.RunAsync();
}

return 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"WebConnect: {message}");
    return 1;
}
