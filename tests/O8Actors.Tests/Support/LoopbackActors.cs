using Akka.Actor;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Runtime;
using O8Actors.Tests.Flows;

namespace O8Actors.Tests.Support;

/// <summary>
/// Starts the real actors of one O8Actors system (guardian, listener, flows, providers, the dead letters' watcher) with
/// the listener on a free loopback port over HTTP, and returns once it is bound, with its redirect URI.
/// </summary>
internal static class LoopbackActors
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    public static async Task<(O8ActorRefs Actors, Uri RedirectUri)> StartAsync(ActorSystem system, LoginOptions login, IHttpClientFactory httpClients)
    {
        var options = new O8Options
        {
            Listener = new ListenerOptions { Scheme = "http", Host = "127.0.0.1", Port = 0, BindIPv6 = false },
            Login = login,
        };
        var actors = await O8Bootstrap.StartAsync(system, options, new RecordingBrowser(), httpClients);
        var status = await actors.Listener.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait);
        Assert.True(status.Bound, status.Failure?.Message);
        return (actors, status.RedirectUri!);
    }
}
