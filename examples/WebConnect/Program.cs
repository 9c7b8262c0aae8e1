// O8Actors in server mode: a web back end connects accounts for many users. The callback is part of this app's own
// pipeline (MapOAuthCallback) instead of a loopback listener; POST /connect/{provider} answers 302 to the provider's
// authorize URL; the provider sends the user back to /oauth/callback, routed by state to that user's login.
// With Demo:Sandbox (default) an in-process sandbox provider stands in for a real one, so it runs without secrets:
//   curl -i -X POST 'http://127.0.0.1:5080/connect/sandbox?user=alice'   → 302 to the sandbox
//   curl -i "<Location from above>"                                       → 302 back to /oauth/callback
//   curl -i "<Location from above>"                                       → 200 "connected"
//   curl http://127.0.0.1:5080/connections/alice                          → {"sandbox":{"status":"Succeeded",...}}
using Akka.Hosting;
using O8Actors;
using O8Actors.Examples.WebConnect;
using O8Actors.Hosting;
using O8Actors.TestKit.Sandbox;

var builder = WebApplication.CreateBuilder(args);

SandboxAuthorizationServer? sandbox = null;
if (builder.Configuration.GetValue("Demo:Sandbox", true))
{
    sandbox = await SandboxAuthorizationServer.StartAsync();
    sandbox.RegisterClient(builder.Configuration["O8:Providers:sandbox:ClientId"]!, null,
        [builder.Configuration["O8:Listener:ExternalRedirectUri"]!], ClientAuthMethod.None);
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["O8:Providers:sandbox:AuthorizationEndpoint"] = sandbox.AuthorizationEndpoint.ToString(),
        ["O8:Providers:sandbox:TokenEndpoint"] = sandbox.TokenEndpoint.ToString(),
        // The sandbox sends iss (RFC 9207); a provider whose issuer is unknown refuses one (mix-up defence).
        ["O8:Providers:sandbox:Issuer"] = sandbox.IssuerString,
    });
}

builder.Services.AddOAuthLogins();
builder.Services.AddAkka("web-connect", akka => akka.WithOAuthLogins());
builder.Services.AddSingleton<Connections>();

var app = builder.Build();
app.MapOAuthCallback("/oauth/callback");
app.MapHealthChecks("/healthz");

// A real app takes the user from its authentication (and protects this POST against CSRF); the query keeps the demo short.
app.MapPost("/connect/{provider}", async (string provider, string user, IOAuthConnector connector, Connections connections) =>
{
    try
    {
        // No request token: the login outlives this request (it waits for the user to come back).
        var login = await connector.BeginAsync(provider,
            // Partition: at most o8.login.max-pending-per-partition logins per user run at once.
            new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = user }, Partition: user));
        connections.Track(user, provider, login.Outcome);
        return Results.Redirect(login.AuthorizeUrl.ToString());
    }
    catch (TooManyPendingLoginsException ex)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status429TooManyRequests);
    }
    catch (AuthorizationFailedException ex)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status502BadGateway);
    }
});
app.MapGet("/connections/{user}", (string user, Connections connections) => Results.Ok(connections.Describe(user)));

try
{
    await app.RunAsync();
}
finally
{
    if (sandbox is not null) await sandbox.DisposeAsync();
}
