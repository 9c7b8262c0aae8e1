using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using O8Actors.Configuration;

namespace O8Actors.Cluster;

/// <summary>
/// Tells the operator, once when a node starts, that its logins' tokens would cross the network in plaintext: Akka.Remote
/// carries codes and tokens between nodes, and only its TLS protects them off a private network, and only when it checks
/// the nodes' certificates both ways. Loopback-only nodes (one machine, the tests) and nodes with TLS as Akka ships it
/// (certificates validated, mutual authentication required) are quiet.
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
    /// The warning for TLS that authenticates no peer; <c>{0}</c> is the host, <c>{1}</c> the setting, <c>{2}</c> what
    /// it lets a machine on that network do.
    /// </summary>
    public const string UnauthenticatedWarning =
        "Akka.Remote's TLS on {0}, which is not a loopback address, runs with {1}: {2} Check the nodes' certificates and require " +
        "them of both ends (RemoteOptions.Ssl: SuppressValidation = false, RequireMutualAuthentication = true) unless that network is " +
        "private; see \"What crosses the network\" in the O8Actors.Cluster README " +
        "(https://github.com/o8actors/O8Actors/blob/main/src/O8Actors.Cluster/README.md#what-crosses-the-network).";

    /// <summary>
    /// The host the plaintext transport binds or advertises that is not a loopback address, or null when there is none
    /// (TLS on, or every host loopback). An empty <c>hostname</c> is Akka's "every interface", so it is not loopback.
    /// </summary>
    public static string? ExposedHost(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return TlsOn(config) ? null : NonLoopbackHost(config);
    }

    /// <summary>
    /// With TLS on a host that is not loopback, the setting that leaves a peer unauthenticated and what that allows
    /// (<c>ssl.suppress-validation = on</c>: no certificate is checked; <c>ssl.require-mutual-authentication = off</c>:
    /// a connecting node shows none); null when both are as Akka ships them, or TLS is off (<see cref="ExposedHost"/>), or
    /// every host is loopback.
    /// </summary>
    public static (string Host, string Setting, string Consequence)? UnauthenticatedTls(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!TlsOn(config) || NonLoopbackHost(config) is not { } host) return null;
        if (config.GetBoolean($"{TransportPath}.ssl.suppress-validation", false))
            return (host, "ssl.suppress-validation = on",
                "no node's certificate is checked, so a machine on that network can sit between the nodes and read the logins' codes and tokens, or connect as a node and ask for them.");
        if (!config.GetBoolean($"{TransportPath}.ssl.require-mutual-authentication", true))
            return (host, "ssl.require-mutual-authentication = off",
                "a node that connects shows no certificate, so any machine that reaches this port can connect as a node and ask for the accounts' tokens.");
        return null;
    }

    private static bool TlsOn(Config config) => config.GetBoolean($"{TransportPath}.enable-ssl", false);

    /// <summary>The host bound or advertised that is not loopback; null when both are loopback.</summary>
    private static string? NonLoopbackHost(Config config)
    {
        var hostname = config.GetString($"{TransportPath}.hostname", "");
        if (!LoopbackNames.IsLoopbackHost(hostname)) return hostname.Length == 0 ? "every interface" : hostname;
        // An empty public host name is the bound one (checked above).
        var publicHostname = config.GetString($"{TransportPath}.public-hostname", "");
        return publicHostname.Length == 0 || LoopbackNames.IsLoopbackHost(publicHostname) ? null : publicHostname;
    }

    /// <summary>
    /// Logs <see cref="Warning"/> once on <paramref name="system"/> when <see cref="ExposedHost"/> finds a host, or
    /// <see cref="UnauthenticatedWarning"/> when <see cref="UnauthenticatedTls"/> finds a setting.
    /// </summary>
    public static void WarnIfExposed(ActorSystem system)
    {
        var config = system.Settings.Config;
        if (ExposedHost(config) is { } host)
            Logging.GetLogger(system, typeof(PlaintextRemoting)).Warning(Warning, host);
        else if (UnauthenticatedTls(config) is { } tls)
            Logging.GetLogger(system, typeof(PlaintextRemoting)).Warning(UnauthenticatedWarning, tls.Host, tls.Setting, tls.Consequence);
    }
}
