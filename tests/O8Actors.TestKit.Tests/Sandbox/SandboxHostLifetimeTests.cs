using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>The sandbox runs inside a test or demo process: it must not take that process's Ctrl+C and SIGTERM.</summary>
public sealed class SandboxHostLifetimeTests
{
    [Fact]
    public async Task The_sandbox_host_has_no_console_lifetime()
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync();

        var lifetimes = sandbox.Services.GetServices<IHostLifetime>().ToArray();

        Assert.DoesNotContain(lifetimes, l => l.GetType().Name == "ConsoleLifetime");
        Assert.Single(lifetimes);
    }
}
