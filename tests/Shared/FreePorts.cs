using System.Net;
using System.Net.Sockets;

namespace O8Actors.TestSupport;

/// <summary>Free loopback ports, for servers whose URL must be known before they start.</summary>
/// <remarks>
/// Taken from outside the kernel's ephemeral range, never from it: a port the OS picks there is handed out again as the
/// source port of any outgoing connection, and a test that starts its server seconds after choosing the port (a
/// cluster's proxy, bound once three nodes have formed) lost it that way ("address already in use"). Outside the range
/// only another server can take it, and each port is probed with a bind before it is handed out.
/// </remarks>
public static class FreePorts
{
    private static readonly (int Low, int High) Range = OutsideEphemeralRange();
    // Where the next search starts: random per process, so two test processes rarely walk the same ports.
    private static int _cursor = Random.Shared.Next(0, Range.High - Range.Low + 1);

    /// <summary>A port free on 127.0.0.1 at the moment of asking, outside the ephemeral range.</summary>
    public static int Next()
    {
        var span = Range.High - Range.Low + 1;
        for (var attempt = 0; attempt < span; attempt++)
        {
            var port = Range.Low + (int)((uint)Interlocked.Increment(ref _cursor) % (uint)span);
            if (IsFree(port)) return port;
        }

        throw new InvalidOperationException($"No free loopback port between {Range.Low} and {Range.High}.");
    }

    /// <summary>Whether <paramref name="port"/> can be bound on 127.0.0.1 now (nothing listens there).</summary>
    public static bool IsFree(int port)
    {
        var probe = new TcpListener(IPAddress.Loopback, port);
        try
        {
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            probe.Stop();
        }
    }

    /// <summary>
    /// Ports below the ephemeral range (Linux: <c>/proc/sys/net/ipv4/ip_local_port_range</c>, 32768-60999 by default),
    /// from 10000; above it where it starts too low to leave room; the IANA dynamic range's complement elsewhere.
    /// </summary>
    private static (int Low, int High) OutsideEphemeralRange()
    {
        var (low, high) = (49152, 65535); // IANA's dynamic range: what Windows and macOS use by default
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], out var l) && int.TryParse(parts[1], out var h)) (low, high) = (l, h);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        if (low - 1 >= 10000 + 1000) return (10000, low - 1);
        if (high + 1 <= 65535 - 1000) return (high + 1, 65535);
        throw new InvalidOperationException($"The ephemeral port range {low}-{high} leaves no room for test servers.");
    }
}
