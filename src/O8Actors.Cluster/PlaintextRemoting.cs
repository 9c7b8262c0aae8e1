using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using O8Actors.Configuration;

namespace O8Actors.Cluster;

/// <summary>
/// Tells the operator, once when a node starts, that its logins' tokens would cross the network in plaintext: Akka.Remote
/// carries codes and tokens between nodes, and only its TLS protects them off a private network. Loopback-only nodes
/// (one machine, the tests) and nodes with TLS on are quiet.
/// </summary>
internal static class PlaintextRemoting
{
    private const string TransportPath = "akka.remote.dot-netty.tcp";

    /// <summary>The warning; <c>{0}</c> is the host name or address that is not loopback.</summary>
    public const string Warning =
        "Akka.Remote runs without TLS on {0}, which is not a loopback address: the logins' authorization codes and tokens cross the " +
        "network between the nodes in plaintext. Turn on TLS for Akka.Remote (RemoteOptions.EnableSsl) unless that network is private; " +
        "see \"What crosses the network\" in the O8Actors.Cluster README " +
        "(https://github.com/o8actors/O8Actors/blob/main/src/O8Actors.Cluster/README.md#what-crosses-the-network).";

    /// <summary>
    /// The host the plaintext transport binds or advertises that is not a loopback address, or null when there is none
    /// (TLS on, or every host loopback). An empty <c>hostname</c> is Akka's "every interface", so it is not loopback.
    /// </summary>
    public static string? ExposedHost(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.GetBoolean($"{TransportPath}.enable-ssl", false)) return null;
        var hostname = config.GetString($"{TransportPath}.hostname", "");
        if (!LoopbackNames.IsLoopbackHost(hostname)) return hostname.Length == 0 ? "every interface" : hostname;
        // An empty public host name is the bound one (checked above).
        var publicHostname = config.GetString($"{TransportPath}.public-hostname", "");
        return publicHostname.Length == 0 || LoopbackNames.IsLoopbackHost(publicHostname) ? null : publicHostname;
    }

    /// <summary>Logs <see cref="Warning"/> once on <paramref name="system"/> when <see cref="ExposedHost"/> finds a host.</summary>
    public static void WarnIfExposed(ActorSystem system)
    {
        if (ExposedHost(system.Settings.Config) is { } host)
            Logging.GetLogger(system, typeof(PlaintextRemoting)).Warning(Warning, host);
    }
}
