using System.Security.Claims;
using System.Threading.RateLimiting;
using Akka.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using O8Actors.Hosting;

namespace O8Actors.Examples.WebConnect;

/// <summary>
/// The app itself, the same on a single node and on every node of the cluster mode: cookie sign-in against the demo
/// users, antiforgery, a per-user rate limit on <c>/connect</c>, <c>MapOAuthCallback</c> and <c>/connections</c>.
/// </summary>
internal static class WebConnectApp
{
    /// <summary>
    /// The app's services. <paramref name="akka"/> adds what a node needs on top of <c>WithOAuthLogins</c> (remoting,
    /// clustering, <c>WithOAuthLoginsCluster</c>); <paramref name="connections"/> is the store of users' connections
    /// (one instance for all nodes of the in-process cluster, as a database would be).
    /// </summary>
    public static void AddServices(WebApplicationBuilder builder, string systemName, Connections connections,
        Action<AkkaConfigurationBuilder>? akka = null)
    {
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
        // (Per node: on the cluster, a user behind the balancer gets up to this many per node.)
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy("connect", context => RateLimitPartition.GetFixedWindowLimiter(
                context.User.Identity?.Name ?? "anonymous",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = 5, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        });
        builder.Services.AddOAuthLogins();
        builder.Services.AddAkka(systemName, configure =>
        {
            configure.WithOAuthLogins();
            akka?.Invoke(configure);
        });
        builder.Services.AddSingleton(connections);
        builder.Services.AddSingleton<DemoUsers>();
    }

    /// <summary>The app's pipeline and endpoints.</summary>
    public static void Map(WebApplication app)
    {
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
            if (users.SignIn(user, password) is not { } name) return Pages.Login(context, antiforgery, "Unknown user or wrong password.");
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], CookieAuthenticationDefaults.AuthenticationScheme);
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
            catch (UnknownProviderException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound);
            }
            catch (ProviderBusyException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            catch (AuthorizationFailedException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status502BadGateway);
            }
            catch (AuthorizationTimeoutException ex)
            {
                // The login's deadline passed before its authorize URL was ready (a provider slow to be discovered).
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status504GatewayTimeout);
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                // Cancelled before its URL was ready: the app is stopping.
                return Results.Problem("The app is stopping; try again in a moment.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).RequireAuthorization().RequireRateLimiting("connect")
          .AddEndpointFilter(RequireAntiforgery).WithMetadata(new RequireAntiforgeryTokenAttribute());

        // The signed-in user's own connections only: the user comes from the sign-in cookie, never from the URL.
        app.MapGet("/connections", (HttpContext context, Connections connections) =>
            Results.Ok(connections.Describe(context.User.Identity!.Name!))).RequireAuthorization();
    }

    // A POST without form fields is not checked by the form binder: refuse it here unless UseAntiforgery found its token valid.
    private static async ValueTask<object?> RequireAntiforgery(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next) =>
        invocation.HttpContext.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: true }
            ? await next(invocation)
            : Results.Problem("The form's antiforgery token is missing or invalid; reload the page.", statusCode: StatusCodes.Status400BadRequest);
}
