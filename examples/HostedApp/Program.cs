// O8Actors in a Generic Host: settings from appsettings.json (section O8) over hocon/app.conf over the shipped
// defaults, providers from configuration, Akka logs in Microsoft.Extensions.Logging, OpenTelemetry metrics and traces
// on the console, logins started from a hosted service. With Demo:Sandbox (on in this example's appsettings.json; off
// unless configured) it runs without secrets against an in-process sandbox provider and a scripted user. To use it for real, set Demo:Sandbox=false, configure a provider
// (O8:Providers:github:Preset=github and ClientId in appsettings; ClientSecret in the environment, or in user secrets,
// which the host reads in the Development environment: `dotnet run` runs this example there, Properties/launchSettings.json),
// name it in Demo:Provider, list the users to sign
// in (Demo:Users in appsettings.json, one browser login each) and register with the provider the redirect URI the app
// logs at start (O8:Listener:Port 0 picks a free port each run: set one to keep it). For example:
//   O8__Providers__github__ClientSecret=… dotnet run --project examples/HostedApp -- --Demo:Sandbox=false --Demo:Provider=github
//     --O8:Providers:github:Preset=github --O8:Providers:github:ClientId=…
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Diagnostics;
using O8Actors.Examples.HostedApp;
using O8Actors.Hosting;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

// appsettings.json and hocon/ are read from beside the program, not from the working directory: `dotnet run --project
// examples/HostedApp` from the repository's root (or a published copy started from anywhere) finds them too.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
var hoconFile = Path.Combine(AppContext.BaseDirectory, "hocon", "app.conf");

SandboxAuthorizationServer? sandbox = null;
ScriptedBrowser? browser = null;
IHost? host = null;
try
{
    // Off unless configured on (this example's appsettings.json turns it on): an app copied from this one and deployed
    // without the key must never sign users in against a sandbox.
    if (builder.Configuration.GetValue("Demo:Sandbox", false))
    {
        sandbox = await SandboxAuthorizationServer.StartAsync();
        browser = new ScriptedBrowser();
        builder.Services.AddSingleton(sandbox);
        // The sandbox provider exists only in demo mode: a section of it in appsettings.json, without endpoints, would
        // fail the start of a real configuration as an incomplete plain provider.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["O8:Providers:sandbox:ClientId"] = "hosted-app",
            ["O8:Providers:sandbox:ClientAuthentication"] = "None",
            ["O8:Providers:sandbox:DefaultScopes:0"] = "openid",
            ["O8:Providers:sandbox:AuthorizationEndpoint"] = sandbox.AuthorizationEndpoint.ToString(),
            ["O8:Providers:sandbox:TokenEndpoint"] = sandbox.TokenEndpoint.ToString(),
            // The sandbox sends iss (RFC 9207); a provider whose issuer is unknown refuses one (mix-up defence).
            ["O8:Providers:sandbox:Issuer"] = sandbox.IssuerString,
        });
    }

    builder.Services.AddOAuthLogins(o =>
    {
        o.Hocon = ConfigurationFactory.ParseString(File.ReadAllText(hoconFile));
        if (browser is not null) o.Browser = _ => browser;
    });
    builder.Services.AddAkka("hosted-app", akka => akka
        .AddHoconFile(hoconFile, HoconAddMode.Prepend)
        .WithOAuthLogins());
    builder.Services.AddOpenTelemetry()
        .WithMetrics(metrics => metrics.AddMeter(O8Telemetry.MeterName).AddConsoleExporter())
        .WithTracing(tracing => tracing.AddSource(O8Telemetry.ActivitySourceName).AddConsoleExporter());
    // API calls as a signed-in account: each request of this client names its account, the handler adds its token.
    builder.Services.AddHttpClient("userinfo").AddOAuthAccessToken();
    builder.Services.AddHostedService<LoginWorker>();

    host = builder.Build();
    await host.RunAsync();
}
finally
{
    // Disposed asynchronously: the host's synchronous Dispose blocks on its asynchronous one (the Generic Host has both).
    if (host is IAsyncDisposable asyncHost) await asyncHost.DisposeAsync();
    if (browser is not null) await browser.DisposeAsync();
    if (sandbox is not null) await sandbox.DisposeAsync();
}
