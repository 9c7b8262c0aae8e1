using Akka.Configuration;
using Akka.Remote.Hosting;
using O8Actors.Cluster.Tests.Support;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// A node whose Akka.Remote runs without TLS on an address other machines reach tells its operator once, at start, that
/// the logins' tokens cross the network in plaintext; a loopback-only node and a node with TLS say nothing.
/// </summary>
public sealed class PlaintextRemotingTests
{
    private static Config Remote(string settings) => ConfigurationFactory.ParseString(settings).WithFallback(ClusterDefaults.Config);

    [Theory]
    [InlineData("hostname = 10.0.0.5", "10.0.0.5")]
    [InlineData("hostname = 0.0.0.0", "0.0.0.0")]
    [InlineData("hostname = \"::\"", "::")]
    [InlineData("hostname = node-1.internal", "node-1.internal")]
    [InlineData("hostname = \"\"", "every interface")]
    [InlineData("hostname = 127.0.0.1\npublic-hostname = 10.0.0.5", "10.0.0.5")]
    [InlineData("hostname = 0.0.0.0\npublic-hostname = 127.0.0.1", "0.0.0.0")]
    [InlineData("hostname = 10.0.0.5\nenable-ssl = false", "10.0.0.5")]
    public void Plaintext_remoting_on_a_host_that_is_not_loopback_is_exposed(string tcp, string host) =>
        Assert.Equal(host, PlaintextRemoting.ExposedHost(Remote($"akka.remote.dot-netty.tcp {{\n{tcp}\n}}")));

    [Theory]
    [InlineData("hostname = 127.0.0.1")]
    [InlineData("hostname = 127.0.0.2")]
    [InlineData("hostname = localhost")]
    [InlineData("hostname = LOCALHOST\npublic-hostname = 127.0.0.1")]
    [InlineData("hostname = \"::1\"")]
    [InlineData("hostname = \"[::1]\"")]
    [InlineData("hostname = 10.0.0.5\nenable-ssl = true")]
    [InlineData("hostname = 0.0.0.0\npublic-hostname = 10.0.0.5\nenable-ssl = on")]
    public void Loopback_only_or_TLS_remoting_is_not(string tcp) =>
        Assert.Null(PlaintextRemoting.ExposedHost(Remote($"akka.remote.dot-netty.tcp {{\n{tcp}\n}}")));

    /// <summary>TLS that checks no certificate, or none of the connecting node's, protects nothing from a machine on the network.</summary>
    [Theory]
    [InlineData("hostname = 10.0.0.5\nenable-ssl = on\nssl.suppress-validation = on", "ssl.suppress-validation = on")]
    [InlineData("hostname = 0.0.0.0\nenable-ssl = on\nssl.require-mutual-authentication = off", "ssl.require-mutual-authentication = off")]
    public void TLS_that_authenticates_no_peer_on_a_host_that_is_not_loopback_is_named(string tcp, string setting)
    {
        var config = Remote($"akka.remote.dot-netty.tcp {{\n{tcp}\n}}");

        var found = PlaintextRemoting.UnauthenticatedTls(config);

        Assert.NotNull(found);
        Assert.Equal(setting, found.Value.Setting);
        Assert.Null(PlaintextRemoting.ExposedHost(config));
    }

    [Theory]
    [InlineData("hostname = 10.0.0.5\nenable-ssl = on")]
    [InlineData("hostname = 127.0.0.1\nenable-ssl = on\nssl.suppress-validation = on")]
    [InlineData("hostname = 10.0.0.5\nenable-ssl = off\nssl.suppress-validation = on")]
    public void TLS_as_Akka_ships_it_loopback_or_plaintext_is_not_named_as_unauthenticated(string tcp) =>
        Assert.Null(PlaintextRemoting.UnauthenticatedTls(Remote($"akka.remote.dot-netty.tcp {{\n{tcp}\n}}")));

    [Fact]
    public void The_warning_says_what_crosses_in_plaintext_and_where_to_read_about_it()
    {
        Assert.Contains("tokens cross the network between the nodes in plaintext", PlaintextRemoting.Warning, StringComparison.Ordinal);
        Assert.Contains("README.md#what-crosses-the-network", PlaintextRemoting.Warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("192.0.2.10", true)] // bound to loopback here, but announced to the other nodes on a network address
    [InlineData(null, false)]
    public async Task A_starting_node_warns_once_when_its_remoting_is_plaintext_off_loopback(string? publicHostname, bool warned)
    {
        await using var node = await UnjoinedNode.StartAsync(new RemoteOptions { HostName = "127.0.0.1", PublicHostName = publicHostname, Port = 0 });

        var plaintext = await node.WarningsAfterStartAsync("in plaintext");

        if (warned) Assert.Contains(publicHostname!, Assert.Single(plaintext), StringComparison.Ordinal);
        else Assert.Empty(plaintext);
    }
}
