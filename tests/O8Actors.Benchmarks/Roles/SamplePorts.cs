using System.Net;
using System.Net.Sockets;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// A login's port the way OidcClient's console samples pick one (their <c>GetRandomUnusedPort</c>): bind port 0 on
/// loopback, read the port the kernel chose, release it. The peers' rows of both settings use it, so the peer runs as
/// its users run it.
/// </summary>
/// <remarks>
/// Not <see cref="O8Actors.TestSupport.FreePorts"/>, the tests' helper: since 2026-12-04 12:56 it hands out ports in
/// turn from outside the kernel's ephemeral range, which no app of the peer's does. The peers' rows took that change
/// with it, and with it their logins stopped colliding on a port another login of theirs held (collisions are part of a
/// port per login at 256 logins at once: "Failed to listen on prefix ... conflicts with an existing registration"); the
/// runs of 2026-12-04 and 12-05 before this class measured that friendlier peer (docs/benchmarks.md).
/// </remarks>
internal static class SamplePorts
{
    public static int Next()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
