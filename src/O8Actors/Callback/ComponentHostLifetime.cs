using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace O8Actors.Callback;

/// <summary>
/// The lifetime of a host that O8Actors builds inside someone else's process (the listener's Kestrel, the TestKit
/// sandbox): it hooks no signal. Every host builder, even <c>WebApplication.CreateEmptyBuilder</c>, registers the
/// console lifetime, which takes Ctrl+C and SIGTERM away from the app (they only stop the internal host, and the
/// process runs on); the app decides what a signal means, and stops these hosts through O8Actors.
/// </summary>
internal sealed class ComponentHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Replaces the console lifetime (or any other) in <paramref name="services"/>.</summary>
    public static void Use(IServiceCollection services)
    {
        services.RemoveAll<IHostLifetime>();
        services.AddSingleton<IHostLifetime, ComponentHostLifetime>();
    }
}
