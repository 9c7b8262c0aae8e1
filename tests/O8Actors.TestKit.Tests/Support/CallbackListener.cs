using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>One request seen by the <see cref="CallbackListener"/>.</summary>
public sealed record CallbackHit(string PathAndQuery, string ConnectionId, int RemotePort, bool ConnectionClose);

/// <summary>A tiny HTTPS Kestrel listener on 127.0.0.1 standing in for the O8Actors callback server.</summary>
public sealed class CallbackListener : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<CallbackHit> _hits;
    private readonly Uri _base;

    private CallbackListener(WebApplication app, ConcurrentQueue<CallbackHit> hits, Uri baseUri)
    {
        _app = app;
        _hits = hits;
        _base = baseUri;
    }

    public IReadOnlyCollection<CallbackHit> Hits => _hits.ToArray();

    public Uri Url(string pathAndQuery) => new(_base, pathAndQuery);

    public static async Task<CallbackListener> StartAsync(X509Certificate2 certificate)
    {
        var hits = new ConcurrentQueue<CallbackHit>();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        app.Run(async context =>
        {
            hits.Enqueue(new CallbackHit(
                context.Request.Path + context.Request.QueryString,
                context.Connection.Id,
                context.Connection.RemotePort,
                context.Request.Headers.Connection.ToString().Contains("close", StringComparison.OrdinalIgnoreCase)));
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync("<p>landed</p>");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new CallbackListener(app, hits, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
