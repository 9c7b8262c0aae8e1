using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Hosting.Tests.Support;

/// <summary>
/// One sandbox authorization server (plain http on loopback) per test class; clients are registered per test. Server-mode
/// apps serve https with a development CA of this fixture: a server-mode login's browser-binding cookie is
/// <c>__Host-</c>, so Secure, and a browser (or <see cref="CookieContainer"/>) sends it only over https.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    /// <summary>The sandbox.</summary>
    public SandboxAuthorizationServer Server { get; private set; } = null!;

    /// <summary>The CA of the server-mode apps' certificates (trusted only by <see cref="Browser"/>'s clients).</summary>
    public DevelopmentCertificateAuthority Ca { get; } = DevelopmentCertificateAuthority.Create();

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => Server = await SandboxAuthorizationServer.StartAsync(new SandboxOptions());

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        Ca.Dispose();
    }

    /// <summary>
    /// One browser: an HTTP client with its own cookie jar that trusts <see cref="Ca"/> and follows no redirect itself
    /// (the test follows each 302, as a browser would, and sees every hop).
    /// </summary>
    public HttpClient Browser() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = true,
        CookieContainer = new CookieContainer(),
        SslOptions = { RemoteCertificateValidationCallback = Ca.CreateValidationCallback() },
    }, disposeHandler: true)
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>The <c>O8:Providers:&lt;name&gt;</c> keys of a public client of this sandbox.</summary>
    public Dictionary<string, string?> ProviderSettings(string name, string clientId) => new()
    {
        [$"O8:Providers:{name}:AuthorizationEndpoint"] = Server.AuthorizationEndpoint.ToString(),
        [$"O8:Providers:{name}:TokenEndpoint"] = Server.TokenEndpoint.ToString(),
        // Configured, not discovered: device logins (RFC 8628) through a plain OAuth provider's settings.
        [$"O8:Providers:{name}:DeviceAuthorizationEndpoint"] = Server.DeviceAuthorizationEndpoint.ToString(),
        // The sandbox names itself in iss (RFC 9207); a provider whose issuer is unknown refuses any iss (mix-up defence).
        [$"O8:Providers:{name}:Issuer"] = Server.IssuerString,
        [$"O8:Providers:{name}:ClientId"] = clientId,
        [$"O8:Providers:{name}:ClientAuthentication"] = "None",
        [$"O8:Providers:{name}:DefaultScopes:0"] = "openid",
    };

    /// <summary>
    /// A server-mode web app on a free loopback port, over https (certificate from <see cref="Ca"/>): a fresh public
    /// client of this sandbox registered as provider <c>sandbox</c> for the app's <c>/oauth/callback</c>, O8Actors
    /// hosted with <paramref name="settings"/> on top; with <paramref name="pathBase"/> (<c>/app</c>) the redirect URI
    /// carries it, for an app that runs under <c>UsePathBase</c>.
    /// The caller maps its endpoints (<c>MapOAuthCallback</c> among them) on the built app and starts it; <paramref name="hosting"/>
    /// is what the app passes to <c>AddOAuthLogins</c>.
    /// </summary>
    public WebApplicationBuilder ServerModeApp(string systemName, IReadOnlyDictionary<string, string?>? settings = null, string pathBase = "",
        Action<O8HostingOptions>? hosting = null)
    {
        var clientId = "web-" + Guid.NewGuid().ToString("N");
        var port = FreePort();
        var callback = new Uri($"https://127.0.0.1:{port}{pathBase}/oauth/callback");
        // The provider's own redirect URI: the callback path followed by its name.
        Server.RegisterClient(clientId, null, [callback + "/sandbox"], ClientAuthMethod.None);

        var builder = WebApplication.CreateSlimBuilder();
        var certificate = Ca.IssueServerCertificate();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(certificate)));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var all = ProviderSettings("sandbox", clientId);
        all["O8:Listener:ExternalRedirectUri"] = callback.ToString();
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        builder.Configuration.AddInMemoryCollection(all);
        builder.Services.AddOAuthLogins(hosting);
        builder.Services.AddAkka(systemName, akka => akka.WithOAuthLogins());
        return builder;
    }

    /// <summary>A free loopback port (for servers whose URL must be known before they start).</summary>
    public static int FreePort() => O8Actors.TestSupport.FreePorts.Next();

    /// <summary>The <c>sub</c> claim of an ID token (the signature is the sandbox's business; tests check it separately).</summary>
    public static string? Subject(string idToken)
    {
        var payload = idToken.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
        return json.RootElement.TryGetProperty("sub", out var sub) ? sub.GetString() : null;
    }

    /// <summary>A request whose <c>login_hint</c> chooses the sandbox's decision (alice → approve, deny-… → deny, hang-… → never answer).</summary>
    public static AuthorizationRequest Hint(string hint, TimeSpan? timeout = null) =>
        new(Timeout: timeout, ExtraParameters: new Dictionary<string, string> { ["login_hint"] = hint });
}
