using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Callback;
using O8Actors.Configuration;

namespace O8Actors.Tests.Callback;

/// <summary>RFC 8252 §8.3: the redirect listener must not be reachable from other machines.</summary>
public sealed class LoopbackBindingTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_listener_binds_loopback_addresses_only(bool bindIPv6)
    {
        // IPv4 only takes the host 127.0.0.1 (see the next test).
        var options = new O8Options { Listener = new ListenerOptions { Scheme = "http", Host = bindIPv6 ? "localhost" : "127.0.0.1", Port = 0, Path = "/", BindIPv6 = bindIPv6 } };

        var (started, addresses) = await StartAndStopAsync(options);

        Assert.NotEmpty(addresses);
        foreach (var address in addresses)
        {
            var host = new Uri(address).Host.Trim('[', ']');
            Assert.True(IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip), $"bound to {address}, which is not a loopback address");
        }
        Assert.Equal(started.IPv6, addresses.Any(a => a.Contains("[::1]", StringComparison.Ordinal)));
    }

    /// <summary>
    /// The attack of RFC 8252 section 8.3: another local program listens on [::1] at the listener's port. A browser may
    /// send a redirect for localhost there first, so a listener on 127.0.0.1 alone with the host localhost would leave it
    /// the code (with plain http, readable). Such a listener refuses to start, saying how to fix it.
    /// </summary>
    [Fact]
    public async Task Localhost_with_the_IPv6_loopback_left_to_another_program_is_refused_at_start()
    {
        // The squatter: this machine has an IPv6 loopback (CI's image too; the test needs one, it does not skip).
        using var squatter = SquatOnIPv6Loopback(out var port);
        var options = new O8Options { Listener = new ListenerOptions { Scheme = "http", Host = "localhost", Port = port, Path = "/", BindIPv6 = false } };

        var error = await Assert.ThrowsAsync<ListenerStartException>(() =>
            CallbackListenerHost.StartAsync(options, _ => Task.CompletedTask, loggerFactory: null, CancellationToken.None));

        Assert.Contains("o8.listener.bind-ipv6", error.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", error.Message, StringComparison.Ordinal);
        // Nothing was bound on 127.0.0.1 either: the port is still free there.
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
        probe.Start();
    }

    /// <summary>
    /// The host 127.0.0.1 (the fix the message above suggests) with bind-ipv6 left on: its redirect URI never sends the
    /// browser to [::1], so a program there at the port (a Node 17+ dev server) is no reason to fail the start.
    /// </summary>
    [Fact]
    public async Task The_host_127_0_0_1_starts_beside_another_program_on_the_IPv6_loopback_at_its_port()
    {
        using var squatter = SquatOnIPv6Loopback(out var port);
        var options = new O8Options { Listener = new ListenerOptions { Scheme = "http", Host = "127.0.0.1", Port = port, Path = "/", BindIPv6 = true } };
        options.Validate();

        var (started, addresses) = await StartAndStopAsync(options);

        Assert.Equal(port, started.Port);
        Assert.False(started.IPv6);
        Assert.Equal([$"http://127.0.0.1:{port}"], addresses);
    }

    [Fact]
    public async Task A_port_taken_on_the_IPv6_loopback_alone_is_reported_naming_that_address()
    {
        using var squatter = SquatOnIPv6Loopback(out var port);
        var options = new O8Options { Listener = new ListenerOptions { Scheme = "http", Host = "localhost", Port = port, Path = "/", BindIPv6 = true } };

        var error = await Assert.ThrowsAsync<ListenerPortInUseException>(() =>
            CallbackListenerHost.StartAsync(options, _ => Task.CompletedTask, loggerFactory: null, CancellationToken.None));

        Assert.Equal(port, error.Port);
        Assert.Contains($"already in use on [::1]:{port}.", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Starts the listener, reads the addresses it bound, and stops it.</summary>
    private static async Task<(ListenerStarted Started, List<string> Addresses)> StartAndStopAsync(O8Options options)
    {
        var started = await CallbackListenerHost.StartAsync(options, _ => Task.CompletedTask, loggerFactory: null, CancellationToken.None);
        try
        {
            return (started, [.. started.App.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses]);
        }
        finally
        {
            await started.App.StopAsync();
            await started.App.DisposeAsync();
        }
    }

    /// <summary>Another program on [::1] at a free port (<paramref name="port"/>), as a Node dev server listens.</summary>
    private static System.Net.Sockets.TcpListener SquatOnIPv6Loopback(out int port)
    {
        var squatter = new System.Net.Sockets.TcpListener(IPAddress.IPv6Loopback, 0);
        squatter.Start();
        port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        return squatter;
    }
}
