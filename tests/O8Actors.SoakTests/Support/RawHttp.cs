using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using O8Actors.TestKit.Certificates;

namespace O8Actors.SoakTests.Support;

/// <summary>One HTTP/1.1 answer read off the wire; <see cref="Status"/> is 0 when the server closed without answering.</summary>
internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public static RawResponse Closed { get; } = new(0, new Dictionary<string, string>(), "");

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public override string ToString() => Status == 0 ? "closed without a response" : $"HTTP {Status} ({Body.Length} chars)";
}

/// <summary>
/// Sends exact bytes to the listener over a fresh TCP (and TLS) connection and reads the answer. HttpClient would
/// normalise or refuse most of the hostile inputs (invalid percent-encoding, raw non-UTF-8 bytes, a bad Host header),
/// so the hostile suite speaks HTTP/1.1 by hand.
/// </summary>
internal sealed class RawHttp(int port, X509Certificate2? trustedRoot)
{
    private static readonly TimeSpan ReadLimit = TimeSpan.FromSeconds(30);

    public int Port => port;

    /// <summary>A GET of <paramref name="target"/> (path and query, sent verbatim) with a loopback Host header.</summary>
    public Task<RawResponse> GetAsync(string target, string method = "GET", string? host = null, string? extraHeaders = null) =>
        SendAsync(Encoding.Latin1.GetBytes(Request(method, target, host, extraHeaders)));

    public string Request(string method, string target, string? host = null, string? extraHeaders = null) =>
        $"{method} {target} HTTP/1.1\r\nHost: {host ?? $"localhost:{port}"}\r\nUser-Agent: o8-hostile\r\nAccept: text/html\r\n{extraHeaders}Connection: close\r\n\r\n";

    /// <summary>Sends <paramref name="request"/> (all at once, or one byte every <paramref name="bytePace"/>) and reads the answer.</summary>
    public async Task<RawResponse> SendAsync(byte[] request, TimeSpan? bytePace = null, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadLimit + (bytePace ?? TimeSpan.Zero) * request.Length);
        using var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        await using var stream = await OpenAsync(client, timeout.Token);
        try
        {
            if (bytePace is { } pace)
            {
                for (var i = 0; i < request.Length; i++)
                {
                    await stream.WriteAsync(request.AsMemory(i, 1), timeout.Token);
                    await stream.FlushAsync(timeout.Token);
                    await Task.Delay(pace, timeout.Token);
                }
            }
            else
            {
                await stream.WriteAsync(request, timeout.Token);
                await stream.FlushAsync(timeout.Token);
            }
        }
        catch (IOException)
        {
            // The server may answer (414, 431) and close before it has read everything we meant to send.
        }

        return Parse(await ReadToEndAsync(stream, timeout.Token));
    }

    /// <summary>Opens a connection (TLS handshake done for https) and hands the stream over, for tests that hold it open.</summary>
    public async Task<(TcpClient Client, Stream Stream)> ConnectAsync(bool handshake, CancellationToken cancellationToken)
    {
        var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            var stream = handshake ? await OpenAsync(client, cancellationToken) : client.GetStream();
            return (client, stream);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Reads until the server closes (or <paramref name="cancellationToken"/> fires) and parses what came.</summary>
    public static async Task<RawResponse> ReadResponseAsync(Stream stream, CancellationToken cancellationToken) =>
        Parse(await ReadToEndAsync(stream, cancellationToken));

    private async Task<Stream> OpenAsync(TcpClient client, CancellationToken cancellationToken)
    {
        var network = client.GetStream();
        if (trustedRoot is null) return network;
        var tls = new SslStream(network, leaveInnerStreamOpen: false, CustomRootTrust.CreateCallback(trustedRoot));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.None,
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        }, cancellationToken);
        return tls;
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0) buffer.Write(chunk, 0, read);
        }
        catch (IOException)
        {
            // A reset after the answer (the server aborts a connection it refused) still leaves the answer readable.
        }

        return buffer.ToArray();
    }

    private static RawResponse Parse(byte[] bytes)
    {
        if (bytes.Length == 0) return RawResponse.Closed;
        var text = Encoding.UTF8.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = end < 0 ? text : text[..end];
        var body = end < 0 ? "" : text[(end + 4)..];
        var lines = head.Split("\r\n");
        var statusParts = lines[0].Split(' ', 3);
        var status = statusParts.Length > 1 && int.TryParse(statusParts[1], out var s) ? s : -1;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        return new RawResponse(status, headers, body);
    }
}
