using System.Net;
using System.Net.Sockets;

namespace O8Actors.TestSupport;

/// <summary>Free loopback ports, for servers whose URL must be known before they start.</summary>
public static class FreePorts
{
    /// <summary>A port free on 127.0.0.1 at the moment of asking (the OS picks it).</summary>
    public static int Next()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
    }
}
