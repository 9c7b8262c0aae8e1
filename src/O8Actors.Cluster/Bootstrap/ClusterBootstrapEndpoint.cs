using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using O8Actors.Callback;

namespace O8Actors.Cluster.Bootstrap;

/// <summary>
/// The node's cluster bootstrap contact point, <c>GET /bootstrap/seed-nodes</c>, on a Kestrel of its own: what
/// Akka.Management's HTTP endpoint serves, for the bootstrap of the other nodes to probe. Nothing else is served (404),
/// and nothing but GET (405).
/// </summary>
internal sealed class ClusterBootstrapEndpoint : IAsyncDisposable
{
    /// <summary>The path Akka.Management's prober asks (<c>ClusterBootstrapRequests.BootstrapSeedNodes</c>).</summary>
    public const string SeedNodesPath = "/bootstrap/seed-nodes";

    private readonly WebApplication _app;
    private int _stopped;

    private ClusterBootstrapEndpoint(WebApplication app) => _app = app;

    /// <summary>Starts serving <paramref name="seedNodes"/>' answer on <paramref name="listen"/>, over TLS with <paramref name="certificate"/> when given.</summary>
    public static async Task<ClusterBootstrapEndpoint> StartAsync(IPEndPoint listen, X509Certificate2? certificate, Func<string> seedNodes,
        ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        // Kestrel's warnings only: probes come every second, and a request line per probe would flood the app's log.
        var builder = ComponentWebHost.CreateBuilder(typeof(ClusterBootstrapEndpoint), loggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Listen(listen, endpoint =>
            {
                endpoint.Protocols = HttpProtocols.Http1;
                if (certificate is not null) endpoint.UseHttps(certificate);
            });
        });
        var app = builder.Build();
        app.Run(context => AnswerAsync(context, seedNodes));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new ClusterBootstrapEndpoint(app);
    }

    private static Task AnswerAsync(HttpContext context, Func<string> seedNodes)
    {
        var response = context.Response;
        if (!string.Equals(context.Request.Path.Value, SeedNodesPath, StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!HttpMethods.IsGet(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET";
            return Task.CompletedTask;
        }

        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        return response.WriteAsync(seedNodes(), context.RequestAborted);
    }

    /// <summary>Stops the listener (once; later calls do nothing).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            try
            {
                await _app.StopAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Probes still open after the grace: the dispose below cuts them.
            }
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
