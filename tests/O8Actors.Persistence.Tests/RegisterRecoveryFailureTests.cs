using System.Net;
using System.Net.Sockets;
using O8Actors.Persistence.Tests.Support;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// A register whose recovery fails (its database cannot be reached) stops with the requests that came while it
/// recovered; their callers hear a failure then, not at the store's timeout.
/// </summary>
public sealed class RegisterRecoveryFailureTests
{
    [Fact]
    public async Task Requests_held_while_a_register_fails_to_recover_fail_then_instead_of_waiting_out_the_store_timeout()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Path.Combine(Path.GetTempPath(), "o8-recovery-" + Guid.NewGuid().ToString("N")[..12]);
        await using var host = await StoreHost.StartAsync(o =>
        {
            o.Database = O8PersistenceDatabase.PostgreSql;
            o.ConnectionString = $"Host=127.0.0.1;Port={ClosedPort()};Database=o8;Username=o8;Password=unused;Timeout=5";
            o.KeyRingFolder = Path.Combine(folder, "keys");
            // The register gives up its recovery after two thirds of it; an answer that came from this timeout would be an AskTimeoutException.
            o.Timeout = TimeSpan.FromSeconds(6);
        }, "o8-recovery-failure");
        try
        {
            var account = new OAuthAccount("sandbox", "alice");

            // A load and a save sent at once: both wait in the register while it recovers, and both are answered when it fails.
            var load = host.Store.LoadAsync(account, ct);
            var save = host.Store.SaveAsync(account, new TokenSet("access", "Bearer"), 0, ct);

            var loadFailure = await Assert.ThrowsAsync<Registers.RegisterUnavailableException>(() => load);
            Assert.Contains("stopped before it handled the request", loadFailure.Message);
            var saveFailure = await Assert.ThrowsAsync<Registers.RegisterUnavailableException>(() => save);
            Assert.Contains("nothing was done", saveFailure.Message);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A loopback port nothing listens on: taken from the system, then given back.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
