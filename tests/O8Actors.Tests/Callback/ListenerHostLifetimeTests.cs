using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Callback;
using O8Actors.Configuration;

namespace O8Actors.Tests.Callback;

/// <summary>The listener's Kestrel host is a component of the app: it must not take the app's Ctrl+C and SIGTERM.</summary>
public sealed class ListenerHostLifetimeTests
{
    [Fact]
    public async Task The_listener_host_has_no_console_lifetime()
    {
        var options = O8Options.FromConfig();
        options.Listener.Scheme = "http";
        options.Listener.Port = 0;
        var started = await CallbackListenerHost.StartAsync(options, context => Task.CompletedTask, null, CancellationToken.None);
        try
        {
            var lifetimes = started.App.Services.GetServices<IHostLifetime>().ToArray();

            // The console lifetime hooks SIGINT and SIGTERM and cancels them, so the app never sees them.
            Assert.DoesNotContain(lifetimes, l => l.GetType().Name == "ConsoleLifetime");
            Assert.IsType<ComponentHostLifetime>(Assert.Single(lifetimes));
        }
        finally
        {
            await CallbackListenerHost.StopAsync(started.App);
        }
    }
}
