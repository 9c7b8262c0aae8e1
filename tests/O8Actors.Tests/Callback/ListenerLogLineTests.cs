using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using O8Actors.Tests.Security;
using O8Actors.TestSupport;

namespace O8Actors.Tests.Callback;

/// <summary>
/// The listener's start line names its base as the callback base: an app that logs "Redirect URI (register it with your
/// provider)" next to it must not seem to give two URIs to register (each provider's is a path under the base).
/// </summary>
public sealed class ListenerLogLineTests
{
    [Fact]
    public async Task The_bound_listener_logs_its_base_as_the_callback_base_not_as_a_redirect_uri()
    {
        var lines = new ConcurrentQueue<string>();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new CapturedLogs.Provider(lines)));
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.LoggerFactory = loggerFactory;
            setup.Options.Listener.Port = 0;
            setup.Options.Listener.Scheme = "http";
        });
        var callbackBase = await logins.GetRedirectUriAsync();

        await Eventually.TrueAsync(() => lines.Any(l => l.Contains("Callback listener bound", StringComparison.Ordinal)), "the listener logged its start");

        var bound = Assert.Single(lines, l => l.Contains("Callback listener bound", StringComparison.Ordinal));
        Assert.Contains($"callback base {callbackBase}", bound, StringComparison.Ordinal);
        Assert.Contains("each provider's redirect URI is a path under it", bound, StringComparison.Ordinal);
        Assert.DoesNotContain($"redirect URI {callbackBase}", bound, StringComparison.Ordinal);
    }
}
