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
        var options = new O8Options { Listener = new ListenerOptions { Scheme = "http", Host = "localhost", Port = 0, Path = "/", BindIPv6 = bindIPv6 } };

        var started = await CallbackListenerHost.StartAsync(options, _ => Task.CompletedTask, loggerFactory: null, CancellationToken.None);
        try
        {
            var addresses = started.App.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;

            Assert.NotEmpty(addresses);
            foreach (var address in addresses)
            {
                var host = new Uri(address).Host.Trim('[', ']');
                Assert.True(IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip), $"bound to {address}, which is not a loopback address");
            }
            Assert.Equal(started.IPv6, addresses.Any(a => a.Contains("[::1]", StringComparison.Ordinal)));
        }
        finally
        {
            await started.App.StopAsync();
            await started.App.DisposeAsync();
        }
    }
}
