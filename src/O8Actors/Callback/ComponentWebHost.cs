using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace O8Actors.Callback;

/// <summary>
/// The builder of a Kestrel host that O8Actors runs inside the app's process (the redirect listener, a cluster node's
/// bootstrap contact point): no appsettings and no environment variables read, no hold on the app's signals
/// (<see cref="ComponentHostLifetime"/>), and only Kestrel's warnings in the app's log (<see cref="ListenerLoggerFactory"/>).
/// </summary>
internal static class ComponentWebHost
{
    /// <summary>A builder for the component <paramref name="owner"/>'s host, logging through <paramref name="loggerFactory"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(Type owner, ILoggerFactory? loggerFactory)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = owner.Assembly.GetName().Name,
            EnvironmentName = Environments.Production,
        });
        ComponentHostLifetime.Use(builder.Services);
        builder.Services.AddSingleton<ILoggerFactory>(new ListenerLoggerFactory(loggerFactory ?? NullLoggerFactory.Instance));
        // ASP.NET Core announces each request, URL and query included, to the process-wide diagnostic listener and
        // activity source named "Microsoft.AspNetCore", where the app's request tracing (Application Insights, APM
        // agents, OpenTelemetry's instrumentation) reads and exports it: on the listener that is every callback's code
        // and state. Names of this host's own keep its requests out of the app's tracing, as its logger keeps them out
        // of the app's log.
        builder.Services.AddSingleton(_ => new DiagnosticListener(DiagnosticsName));
        builder.Services.AddSingleton<DiagnosticSource>(services => services.GetRequiredService<DiagnosticListener>());
        builder.Services.AddSingleton(_ => new ActivitySource(DiagnosticsName));
        return builder;
    }

    /// <summary>The name of the diagnostic listener and activity source of O8Actors' own hosts, which nobody traces.</summary>
    internal const string DiagnosticsName = "O8Actors.ComponentHost";
}
