using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.Hosting.Tests.Support;

/// <summary>A started server-mode web app (with ASP.NET Core session) and the logins its endpoints began, by login id.</summary>
/// <param name="Web">The app.</param>
/// <param name="Root">Its https root.</param>
/// <param name="Logins">What the app's <c>/connect</c> keeps of each login, as an app would in a table of its own.</param>
public sealed record ServerModeWebApp(WebApplication Web, Uri Root, ConcurrentDictionary<string, PendingLogin> Logins)
{
    /// <summary>The session cookie's name.</summary>
    public const string SessionCookieName = "__Host-o8-test-session";

    /// <summary>Builds the app, lets <paramref name="map"/> map its endpoints, and starts it.</summary>
    public static async Task<ServerModeWebApp> StartAsync(SandboxFixture sandbox, string systemName,
        Action<WebApplication, ConcurrentDictionary<string, PendingLogin>> map)
    {
        var builder = sandbox.ServerModeApp(systemName);
        builder.Services.AddDistributedMemoryCache();
        // A session that holds browser bindings is only as strong as its cookie: __Host- (no sibling subdomain or plain-http
        // page can plant one), Secure, HttpOnly, and Lax, which still comes with the provider's redirect back.
        builder.Services.AddSession(o =>
        {
            o.Cookie.Name = SessionCookieName;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.Path = "/";
        });
        var callback = new Uri(builder.Configuration["O8:Listener:ExternalRedirectUri"]!);
        var web = builder.Build();
        web.UseSession();
        var logins = new ConcurrentDictionary<string, PendingLogin>(StringComparer.Ordinal);
        map(web, logins);
        await web.StartAsync(TestContext.Current.CancellationToken);
        return new ServerModeWebApp(web, new Uri(callback, "/"), logins);
    }
}

/// <summary>An app that keeps each login's browser binding in its own session (<c>BeginAsync(provider)</c>).</summary>
public static class SessionBindings
{
    /// <summary>The session keys' prefix; the login id follows.</summary>
    public const string Prefix = "o8-binding:";

    /// <summary>Keeps <paramref name="login"/>'s binding in the request's session.</summary>
    public static void Keep(HttpContext context, PendingLogin login) => context.Session.SetString(Prefix + login.LoginId, login.BrowserBinding);

    /// <summary>The bindings the request's session holds, login id → secret (<see cref="OAuthCallbackOptions.BrowserSecrets"/>).</summary>
    public static Dictionary<string, string> Read(HttpContext context) =>
        context.Session.Keys.Where(k => k.StartsWith(Prefix, StringComparison.Ordinal))
            .ToDictionary(k => k[Prefix.Length..], k => context.Session.GetString(k)!, StringComparer.Ordinal);
}
