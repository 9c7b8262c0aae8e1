using System.Net;
using System.Net.Sockets;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// The cluster's begin timeout covers a begin that no node takes (no shard placed, no node of the role), not the login a
/// node took and runs: a provider whose discovery took longer than it failed as "no node of the cluster took this login
/// (is the cluster formed?)", naming the cluster for the provider's fault, where a single node said the provider could not
/// be resolved.
/// </summary>
public sealed class BeginTimeoutTests
{
    [Fact]
    public async Task A_login_whose_provider_is_slower_than_the_begin_timeout_fails_naming_the_provider_not_the_cluster()
    {
        var ct = TestContext.Current.CancellationToken;
        // An issuer that accepts connections and never answers: discovery waits out the exchange timeout (4 s).
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(backlog: 16);
        var https = ClusterNodes.FreePort();
        var contact = ClusterNodes.FreePort();
        await using var nodes = await ClusterNodes.StartAsync(new Uri($"https://127.0.0.1:{https}/oauth/callback"));
        var web = await nodes.StartNodeAsync("o8-begin-timeout", https, builder => builder
                .WithRemoting("127.0.0.1", ClusterNodes.FreePort())
                .WithBootstrapOnLoopback([contact], contact, requiredContactPoints: 1),
            new Dictionary<string, string?>
            {
                ["O8:Login:ExchangeTimeout"] = "4s",
                ["O8:Providers:silent:Issuer"] = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}",
                ["O8:Providers:silent:ClientId"] = "silent-client",
                ["O8:Providers:silent:ClientAuthentication"] = "None",
            },
            cluster: o => o.BeginTimeout = TimeSpan.FromSeconds(2));
        await using (web)
        {
            try
            {
                var connector = web.Services.GetRequiredService<IOAuthConnector>();

                var failed = await Assert.ThrowsAsync<AuthorizationFailedException>(() =>
                    connector.BeginAsync("silent", cancellationToken: ct).WaitAsync(TimeSpan.FromSeconds(30), ct));

                Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
                Assert.Contains("silent", failed.Message);
                Assert.DoesNotContain("No node of the cluster", failed.Message);
            }
            finally
            {
                await web.StopAsync(CancellationToken.None);
            }
        }
    }
}
