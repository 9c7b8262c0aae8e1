using O8Actors.TestKit.Sandbox;

namespace O8Actors.Benchmarks.Independent;

/// <summary>
/// The independent setting's authorization server, in a process of its own: the TestKit sandbox (Kestrel, http on
/// 127.0.0.1) with two confidential clients using <c>client_secret_basic</c>, one for O8Actors (its redirect URIs, http and https)
/// and one for the peer (one redirect URI per ephemeral port, since the peer picks a free port per login). Its token
/// responses carry an access token, a refresh token, the scope and the expiry (and an ID token: the scope has openid).
/// </summary>
internal static class AuthServerRole
{
    public const string O8Client = "o8-app";
    public const string PeerClient = "peer-app";

    // Benchmark-only secrets for a sandbox on loopback; never printed.
    public const string O8Secret = "o8-bench-secret";
    public const string PeerSecret = "peer-bench-secret";

    public static async Task<int> RunAsync(Args args)
    {
        var o8Redirect = args.Get("o8-redirect", "");
        var ports = args.Get("peer-ports", "32768-60999").Split('-');
        var (low, high) = (int.Parse(ports[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(ports[1], System.Globalization.CultureInfo.InvariantCulture));
        var options = BenchSandbox.Options();
        options.Clients.Add(new SandboxClient(O8Client, O8Secret, o8Redirect.Split(',', StringSplitOptions.RemoveEmptyEntries), ClientAuthMethod.Basic));
        // The sandbox matches redirect URIs exactly (RFC 9700 §2.1), so the peer's client lists every port it may pick.
        options.Clients.Add(new SandboxClient(PeerClient, PeerSecret,
            Enumerable.Range(low, high - low + 1).Select(PeerRedirect).ToArray(), ClientAuthMethod.Basic));
        await using var server = await SandboxAuthorizationServer.StartAsync(options);
        Wire.Send("READY", server.IssuerString);
        // Lives until the driver closes stdin; answers CPU with its own CPU so far (the driver takes deltas per side).
        string? line;
        while ((line = await Console.In.ReadLineAsync()) is not null)
        {
            if (line == "CPU") Wire.Send("CPU", ProcessMeter.Cpu().TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture));
        }

        return 0;
    }

    /// <summary>The peer's redirect URI for a port: host localhost, as the setting has it.</summary>
    public static string PeerRedirect(int port) => $"http://localhost:{port}/";
}
