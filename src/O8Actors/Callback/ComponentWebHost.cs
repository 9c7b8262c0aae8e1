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
        return builder;
    }
}
