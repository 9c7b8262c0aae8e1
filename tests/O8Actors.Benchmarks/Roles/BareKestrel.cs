using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// Kestrel configured as the O8 listener is (loopback, the same certificate, HTTP/1.1 + h2 over TLS, HTTP/1.1 in the
/// clear, the same socket scheduling) and nothing else: the ceiling of both settings.
/// </summary>
internal static class BareKestrel
{
    public static WebApplication Build(int port, X509Certificate2? certificate)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        // As the O8 listener: requests in the clear are handled on the socket's thread (CallbackListenerHost).
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = certificate is null);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, endpoint =>
            {
                endpoint.Protocols = certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                if (certificate is not null) endpoint.UseHttps(certificate);
            });
        });
        return builder.Build();
    }
}
