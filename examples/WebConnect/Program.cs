// O8Actors in server mode: a web back end connects accounts for its signed-in users. The callback is part of this app's
// own pipeline (MapOAuthCallback) instead of a loopback listener; POST /connect/{provider} answers 302 to the provider's
// authorize URL and sets that login's browser-binding cookie; the provider sends the user back to /oauth/callback,
// routed by state to the login, which goes on only if this browser presents the cookie (a forwarded link links nothing).
// Users sign in with ASP.NET Core cookie authentication against a demo user list (Demo:Users in appsettings.json).
//
// With Demo:Sandbox (default) an in-process sandbox provider stands in for a real one, so it runs without accounts:
//   dotnet run --project examples/WebConnect        then open https://localhost:5443/ and sign in as alice (alice-demo)
// HTTPS uses mkcert's localhost certificate when present (see DemoCertificate.cs; otherwise an untrusted demo CA whose
// root file the log names). With curl (cookies in a jar; the forms need their antiforgery token):
//   curl --cacert <root> -c jar -b jar https://localhost:5443/login                   → the form; copy its token
//   curl ... -X POST -d 'user=alice&password=alice-demo&__RequestVerificationToken=…' https://localhost:5443/login
//   curl ... https://localhost:5443/    → your connections and the Connect form (its token), then POST /connect/sandbox
//   follow the two Location headers (sandbox, then /oauth/callback) with the same jar   → 200 "You are signed in"
using System.Security.Claims;
using System.Threading.RateLimiting;
using Akka.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using O8Actors;
using O8Actors.Examples.WebConnect;
using O8Actors.Hosting;
using O8Actors.TestKit.Sandbox;

var builder = WebApplication.CreateBuilder(args);

SandboxAuthorizationServer? sandbox = null;
if (builder.Configuration.GetValue("Demo:Sandbox", true))
{
    sandbox = await SandboxAuthorizationServer.StartAsync();
    // The provider's own redirect URI: the callback URI followed by its name (what you register with a real provider).
    sandbox.RegisterClient(builder.Configuration["O8:Providers:sandbox:ClientId"]!, null,
        [builder.Configuration["O8:Listener:ExternalRedirectUri"] + "/sandbox"], ClientAuthMethod.None);
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["O8:Providers:sandbox:AuthorizationEndpoint"] = sandbox.AuthorizationEndpoint.ToString(),
        ["O8:Providers:sandbox:TokenEndpoint"] = sandbox.TokenEndpoint.ToString(),
        // The sandbox sends iss (RFC 9207); a provider whose issuer is unknown refuses one (mix-up defence).
        ["O8:Providers:sandbox:Issuer"] = sandbox.IssuerString,
    });
}

// HTTPS only: the login's binding cookie and the sign-in cookie are __Host- cookies, which need Secure.
using (var startupLog = LoggerFactory.Create(l => l.AddConsole()))
{
    var certificate = DemoCertificate.Load(startupLog.CreateLogger("WebConnect"));
    builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
}

builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
{
    o.Cookie.Name = "__Host-webconnect";
    o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
    o.Cookie.SameSite = SameSiteMode.Lax;
    o.LoginPath = "/login";
    o.ExpireTimeSpan = TimeSpan.FromHours(1);
});
builder.Services.AddAuthorization();
builder.Services.AddAntiforgery(o =>
{
    o.Cookie.Name = "__Host-webconnect-af";
    o.Cookie.SecurePolicy = CookieSecurePolicy.Always; // a __Host- cookie must be Secure
});
// Each signed-in user may start a few connections a minute: a login holds memory until it ends (o8.login.timeout).
builder.Services.AddRateLimiter(o =>
{
    o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
    o.AddPolicy("connect", context => RateLimitPartition.GetFixedWindowLimiter(
        context.User.Identity?.Name ?? "anonymous",
        _ => new FixedWindowRateLimiterOptions { PermitLimit = 5, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
});
builder.Services.AddOAuthLogins();
builder.Services.AddAkka("web-connect", akka => akka.WithOAuthLogins());
builder.Services.AddSingleton<Connections>();
builder.Services.AddSingleton<DemoUsers>();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.UseRateLimiter();

app.MapOAuthCallback("/oauth/callback");
app.MapHealthChecks("/healthz");

app.MapGet("/login", (HttpContext context, IAntiforgery antiforgery) => Pages.Login(context, antiforgery));
// [FromForm] parameters: UseAntiforgery validates this form's token before the handler runs.
app.MapPost("/login", async ([FromForm] string user, [FromForm] string password, HttpContext context, IAntiforgery antiforgery, DemoUsers users) =>
{
    if (!users.Check(user, password)) return Pages.Login(context, antiforgery, "Unknown user or wrong password.");
    var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user)], CookieAuthenticationDefaults.AuthenticationScheme);
    await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
    return Results.Redirect("/");
});
app.MapPost("/logout", async (HttpContext context) =>
{
    await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    return Results.Redirect("/login");
}).RequireAuthorization().AddEndpointFilter(RequireAntiforgery).WithMetadata(new RequireAntiforgeryTokenAttribute());

app.MapGet("/", (HttpContext context, IAntiforgery antiforgery, Connections connections) =>
    Pages.Home(context, antiforgery, context.User.Identity!.Name!, connections)).RequireAuthorization();

app.MapPost("/connect/{provider}", async (string provider, HttpContext context, IOAuthConnector connector, Connections connections) =>
{
    var user = context.User.Identity!.Name!;
    try
    {
        // No request token: the login outlives this request (it waits for the user to come back). The context: the
        // login belongs to this browser (its binding cookie is set on this response).
        var login = await connector.BeginAsync(context, provider, new AuthorizationRequest(
            // The sandbox signs in whoever login_hint names; a real provider asks the user.
            ExtraParameters: new Dictionary<string, string> { ["login_hint"] = user },
            // Partition: at most o8.login.max-pending-per-partition logins per user run at once.
            Partition: user));
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
}).RequireAuthorization().RequireRateLimiting("connect")
  .AddEndpointFilter(RequireAntiforgery).WithMetadata(new RequireAntiforgeryTokenAttribute());

// The signed-in user's own connections only: the user comes from the sign-in cookie, never from the URL.
app.MapGet("/connections", (HttpContext context, Connections connections) =>
    Results.Ok(connections.Describe(context.User.Identity!.Name!))).RequireAuthorization();

try
{
    await app.RunAsync();
}
finally
{
    if (sandbox is not null) await sandbox.DisposeAsync();
}

// A POST without form fields is not checked by the form binder: refuse it here unless UseAntiforgery found its token valid.
static async ValueTask<object?> RequireAntiforgery(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next) =>
    invocation.HttpContext.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: true }
        ? await next(invocation)
        : Results.Problem("The form's antiforgery token is missing or invalid; reload the page.", statusCode: StatusCodes.Status400BadRequest);
