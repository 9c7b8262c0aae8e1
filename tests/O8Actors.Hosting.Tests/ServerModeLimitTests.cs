using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.Hosting.Tests.Support;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// Server mode's login limits, bound from <c>IConfiguration</c>: past <c>O8:Login:MaxPendingPerPartition</c>,
/// <c>IOAuthConnector.BeginAsync</c> throws <see cref="TooManyPendingLoginsException"/> at once for that
/// partition only (one user cannot hold every pending login); past <c>O8:Login:MaxPending</c>, for everyone.
/// </summary>
public sealed class ServerModeLimitTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task BeginAsync_past_the_partition_or_global_limit_throws_naming_the_limit()
    {
        var builder = sandbox.ServerModeApp("o8-server-limits", new Dictionary<string, string?>
        {
            ["O8:Login:MaxPending"] = "2",
            ["O8:Login:MaxPendingPerPartition"] = "1",
        });
        await using var app = builder.Build();
        app.MapOAuthCallback("/oauth/callback");
        await app.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var ct = TestContext.Current.CancellationToken;
            var connector = app.Services.GetRequiredService<IOAuthConnector>();
            AuthorizationRequest For(string user) => SandboxFixture.Hint(user) with { Partition = user };

            var alice = await connector.BeginAsync("sandbox", For("alice"), ct).WaitAsync(AtOnce, ct);
            Assert.NotNull(alice.AuthorizeUrl);

            var again = await Assert.ThrowsAsync<TooManyPendingLoginsException>(() => connector.BeginAsync("sandbox", For("alice"), ct).WaitAsync(AtOnce, ct));
            Assert.Equal("o8.login.max-pending-per-partition", again.Setting);
            Assert.Equal(1, again.Limit);

            var bob = await connector.BeginAsync("sandbox", For("bob"), ct).WaitAsync(AtOnce, ct);
            Assert.NotNull(bob.AuthorizeUrl);

            var carol = await Assert.ThrowsAsync<TooManyPendingLoginsException>(() => connector.BeginAsync("sandbox", For("carol"), ct).WaitAsync(AtOnce, ct));
            Assert.Equal("o8.login.max-pending", carol.Setting);
            Assert.Equal(2, carol.Limit);
            Assert.False(alice.Outcome.IsCompleted);
            Assert.False(bob.Outcome.IsCompleted);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }
}
