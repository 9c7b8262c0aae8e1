using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O8Actors.Certificates;
using O8Actors.Configuration;

namespace O8Actors.Callback;

/// <summary>Builds, starts and stops the Kestrel server behind the <see cref="CallbackServerActor"/>.</summary>
internal static class CallbackListenerHost
{
    /// <summary>How long in-flight callbacks may finish when the listener stops before their connections are cut.</summary>
    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(5);

    // Port 0: a free port is picked, then bound; another process may grab it in between, so try a few times.
    private const int FreePortAttempts = 5;

    /// <summary>Loads the certificate (for https) and starts Kestrel on loopback.</summary>
    /// <param name="options">The listener and certificate settings.</param>
    /// <param name="handler">Answers every request.</param>
    /// <param name="loggerFactory">Kestrel's and the certificate provider's logs; null logs nothing.</param>
    /// <param name="ct">Cancels the start.</param>
    /// <param name="certificates">Finds the certificate; null is <see cref="CertificateProvider.Default"/>.</param>
    /// <exception cref="OAuthFlowException">Always one of <see cref="ListenerPortInUseException"/>, <see cref="CertificateNotFoundException"/>, <see cref="ListenerStartException"/>.</exception>
    public static async Task<ListenerStarted> StartAsync(O8Options options, RequestDelegate handler,
        ILoggerFactory? loggerFactory, CancellationToken ct, CertificateProvider? certificates = null)
    {
        var listener = options.Listener;
        ServedCertificate? served = null;
        string? files = null;
        try
        {
            if (listener.UseHttps)
            {
                var given = options.Certificates.Certificate;
                // Read before the load: files replaced in between then differ from it, and the first check takes them.
                if (given is null) files = CertificateProvider.Fingerprint(options.Certificates, listener.Host);
                // The certificate must name the host the redirect URI sends the browser to; warnings (about to expire, remade) go to the app's log.
                var certificate = await (certificates ?? CertificateProvider.Default).GetAsync(options.Certificates, listener.Host,
                    loggerFactory?.CreateLogger(typeof(CertificateProvider).FullName!), ct).ConfigureAwait(false);
                var owned = !ReferenceEquals(certificate, given);
                try
                {
                    served = new ServedCertificate(ServedCertificate.Prepare(certificate, owned));
                }
                catch
                {
                    if (owned) certificate.Dispose();
                    throw;
                }
            }

            var machineHasIPv6Loopback = CanBindIPv6Loopback();
            // [::1] only for a host the browser may reach there: a redirect to 127.0.0.1 never goes to [::1], and a program
            // on [::1] at the port (a Node dev server) would fail the start for nothing.
            var hostMayUseIPv6 = LoopbackNames.IsIPv6Loopback(listener.Host) ||
                                 string.Equals(listener.Host, "localhost", StringComparison.OrdinalIgnoreCase);
            var ipv6 = listener.BindIPv6 && machineHasIPv6Loopback && hostMayUseIPv6;
            if (!ipv6 && LoopbackNames.IsIPv6Loopback(listener.Host))
                throw new ListenerStartException($"The redirect listener's host is '{listener.Host}' (o8.listener.host), but this machine " +
                    "cannot bind the IPv6 loopback address, so no redirect would reach it. Use localhost or 127.0.0.1.");
            // A browser may send a redirect for localhost to [::1] first; left unbound there, the port is free for any
            // other local program to take the redirect, and with plain http its code and state (RFC 8252 section 8.3).
            if (!listener.BindIPv6 && machineHasIPv6Loopback && string.Equals(listener.Host, "localhost", StringComparison.OrdinalIgnoreCase))
                throw new ListenerStartException("The redirect listener's host is 'localhost' (o8.listener.host) and o8.listener.bind-ipv6 is off, " +
                    "but this machine has an IPv6 loopback: a browser may send the redirect to [::1], where another program could take it " +
                    "(RFC 8252 section 8.3). Turn o8.listener.bind-ipv6 on, or use the host 127.0.0.1.");
            if (listener.Port != 0)
            {
                var app = await StartOnPortAsync(listener.Port, ipv6, served, handler, loggerFactory, ct).ConfigureAwait(false);
                return new ListenerStarted(app, listener.Port, ipv6, served, files);
            }

            for (var attempt = 1; ; attempt++)
            {
                var port = FindFreePort(ipv6);
                try
                {
                    var app = await StartOnPortAsync(port, ipv6, served, handler, loggerFactory, ct).ConfigureAwait(false);
                    return new ListenerStarted(app, port, ipv6, served, files);
                }
                catch (ListenerPortInUseException) when (attempt < FreePortAttempts)
                {
                    // Lost the race for the free port: pick another.
                }
            }
        }
        catch (Exception ex)
        {
            served?.Dispose();
            throw Classify(ex, listener.Port);
        }
    }

    /// <summary>Stops Kestrel (letting in-flight callbacks finish for <see cref="ShutdownGrace"/>) and disposes it.</summary>
    public static async Task StopAsync(WebApplication app)
    {
        using (var grace = new CancellationTokenSource(ShutdownGrace))
        {
            try
            {
                await app.StopAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Grace period over: the remaining connections are aborted by the dispose below.
            }
        }

        await app.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<WebApplication> StartOnPortAsync(int port, bool ipv6, ServedCertificate? certificate,
        RequestDelegate handler, ILoggerFactory? loggerFactory, CancellationToken ct)
    {
        var app = Build(port, ipv6, certificate, handler, loggerFactory);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
            return app;
        }
        catch (Exception ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw IsAddressInUse(ex) ? new ListenerPortInUseException(port, TakenOn(port, ipv6), ex) : Classify(ex, port);
        }
    }

    /// <summary>
    /// Which of the addresses just tried have <paramref name="port"/> taken, for the message (Kestrel's own names only
    /// the first it failed on, in its inner exception); null when the other program has let it go meanwhile.
    /// </summary>
    private static string? TakenOn(int port, bool ipv6)
    {
        List<string> taken = [];
        if (!CanBind(IPAddress.Loopback, port)) taken.Add($"127.0.0.1:{port}");
        if (ipv6 && !CanBind(IPAddress.IPv6Loopback, port)) taken.Add($"[::1]:{port}");
        return taken.Count == 0 ? null : string.Join(" and ", taken);
    }

    private static WebApplication Build(int port, bool ipv6, ServedCertificate? certificate, RequestDelegate handler,
        ILoggerFactory? loggerFactory)
    {
        // The listener is a component of the host app, not an app of its own; its log keeps no request URL (they carry codes).
        var builder = ComponentWebHost.CreateBuilder(typeof(CallbackListenerHost), loggerFactory);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownGrace);
        // In the clear, a request is handled on the socket's own thread instead of being queued to the thread pool twice
        // (Kestrel's I/O queue, then the request): safe only because this listener's handler never blocks (it classifies,
        // tells the listener actor and awaits its page). Over TLS the handshake's signature is real CPU work, which would
        // hold the socket thread and every connection behind it, so https keeps Kestrel's default.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = certificate is null);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Callbacks are bodiless GETs; refuse to buffer anything bigger than a small form.
            kestrel.Limits.MaxRequestBodySize = 16 * 1024;
            // A browser sends a callback's headers at once and opens no second request on the connection: 10 s (not
            // Kestrel's 30 s / 130 s) reclaims slow-header and idle connections from a local misbehaving process sooner.
            // No connection cap: a cap would let such a process lock the real browser out; the timeouts bound it instead.
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(10);
            kestrel.Listen(IPAddress.Loopback, port, endpoint => Configure(endpoint, certificate));
            if (ipv6) kestrel.Listen(IPAddress.IPv6Loopback, port, endpoint => Configure(endpoint, certificate));
        });

        var app = builder.Build();
        app.Run(handler);
        return app;
    }

    private static void Configure(ListenOptions endpoint, ServedCertificate? certificate)
    {
        if (certificate is null)
        {
            // Browsers speak HTTP/2 only over TLS; offering it on plain http only makes Kestrel log a warning.
            endpoint.Protocols = HttpProtocols.Http1;
            return;
        }

        endpoint.Protocols = HttpProtocols.Http1AndHttp2;
        certificate.Serve(endpoint);
    }

    /// <summary>A port free on 127.0.0.1 (and on [::1] when <paramref name="ipv6"/>), so both listeners share it.</summary>
    internal static int FindFreePort(bool ipv6)
    {
        for (var attempt = 1; ; attempt++)
        {
            var v4 = new TcpListener(IPAddress.Loopback, 0);
            v4.Start();
            try
            {
                var port = ((IPEndPoint)v4.LocalEndpoint).Port;
                if (!ipv6 || CanBind(IPAddress.IPv6Loopback, port) || attempt == FreePortAttempts) return port;
            }
            finally
            {
                v4.Stop();
            }
        }
    }

    private static bool CanBindIPv6Loopback() => Socket.OSSupportsIPv6 && CanBind(IPAddress.IPv6Loopback, 0);

    private static bool CanBind(IPAddress address, int port)
    {
        try
        {
            var probe = new TcpListener(address, port);
            probe.Start();
            probe.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Maps a start failure to the exception the caller sees.</summary>
    internal static OAuthFlowException Classify(Exception ex, int port) => ex switch
    {
        OAuthFlowException known => known,
        _ when IsAddressInUse(ex) => new ListenerPortInUseException(port, ex),
        OperationCanceledException => new ListenerStartException("The redirect listener was stopped before it finished starting.", ex),
        _ => new ListenerStartException(
            $"The redirect listener could not start on loopback port {port}: {ex.GetType().Name}: {ex.Message}", ex),
    };

    private static bool IsAddressInUse(Exception? ex)
    {
        for (var depth = 0; ex is not null && depth < 8; depth++, ex = ex.InnerException)
        {
            if (ex is AddressInUseException) return true;
            if (ex is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }) return true;
            if (ex is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                    if (IsAddressInUse(inner)) return true;
            }
        }

        return false;
    }
}
