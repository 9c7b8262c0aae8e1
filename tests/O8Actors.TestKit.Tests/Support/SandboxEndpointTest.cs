using Microsoft.Extensions.Time.Testing;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>
/// A test class that talks to one endpoint of its own sandbox: the sandbox (its clocks on a fake time the test advances)
/// and a raw client, started before each test and stopped after it.
/// </summary>
public abstract class SandboxEndpointTest : IAsyncLifetime
{
    /// <summary>The sandbox's clock: 2026-01-01T00:00:00Z until a test advances it.</summary>
    protected FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    protected SandboxAuthorizationServer Server { get; private set; } = null!;

    protected RawOAuthClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await Sandboxes.StartAsync(o =>
        {
            o.TimeProvider = Time;
            Configure(o);
        });
        Client = new RawOAuthClient(Server);
    }

    /// <summary>Changes to the sandbox's options before it starts (its clock is already <see cref="Time"/>).</summary>
    protected virtual void Configure(SandboxOptions options)
    {
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
