using System.Net;
using Duende.IdentityModel.Client;
using Duende.IdentityModel.OidcClient;
using Duende.IdentityModel.OidcClient.Browser;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// The common .NET alternative: Duende.IdentityModel.OidcClient with one loopback listener per login on a random
/// free port (http), as its console samples do: <c>HttpListener</c> (the manual-mode sample) or a Kestrel
/// <c>LoopbackHttpListener</c> started and stopped asynchronously. Discovery is fetched once and shared, and so is the
/// back-channel HttpClient, so the comparison is about the listener pattern, not about repeated discovery.
/// </summary>
internal static class OidcClientRole
{
    private static readonly byte[] Page = HttpListenerBrowser.Page;

    public static async Task<int> RunAsync(Args args)
    {
        var n = args.Int("n", 2000);
        var concurrency = args.Int("concurrency", 16);
        var kestrel = args.Get("variant", "httplistener") == "kestrel";
        Wire.Send("READY", "-");
        var issuer = (await Wire.ExpectAsync("GO")).Split(' ')[0];

        using var backchannel = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        var discovery = await backchannel.GetDiscoveryDocumentAsync(new DiscoveryDocumentRequest
        {
            Address = issuer,
            Policy = { RequireHttps = false },
        });
        if (discovery.IsError) throw new InvalidOperationException($"Discovery failed: {discovery.Error}");
        var provider = new ProviderInformation
        {
            IssuerName = discovery.Issuer,
            AuthorizeEndpoint = discovery.AuthorizeEndpoint,
            TokenEndpoint = discovery.TokenEndpoint,
            KeySet = discovery.KeySet,
            TokenEndPointAuthenticationMethods = discovery.TokenEndpointAuthenticationMethodsSupported,
        };

        async Task LoginAsync(int i)
        {
            var port = FreePort();
            var redirect = $"http://127.0.0.1:{port}/";
            var client = new OidcClient(new OidcClientOptions
            {
                Authority = issuer,
                ClientId = $"peer-{Environment.ProcessId}-{i}",
                RedirectUri = redirect,
                Scope = "openid",
                LoadProfile = false,
                ProviderInformation = provider,
                HttpClientFactory = _ => backchannel,
                Browser = kestrel ? new KestrelBrowser(port) : new HttpListenerBrowser(redirect, url => Wire.Send("URL", url), TimeSpan.FromSeconds(60)),
                // O8Actors does not check the ID token signature either; neither side pays for it.
                Policy = { Discovery = { RequireHttps = false }, RequireIdentityTokenSignature = false },
            });
            var result = await client.LoginAsync(new LoginRequest());
            if (result.IsError) throw new InvalidOperationException($"OidcClient login failed: {result.Error} {result.ErrorDescription}");
        }

        await MeasuredRow.RunAsync(n, concurrency, LoginAsync);
        return 0;
    }

    private static int FreePort() => SamplePorts.Next();

    /// <summary>The Kestrel <c>LoopbackHttpListener</c> sample's pattern: a web host per login, stopped in the background.</summary>
    private sealed class KestrelBrowser(int port) : IBrowser
    {
        public async Task<BrowserResult> InvokeAsync(BrowserOptions options, CancellationToken cancellationToken = default)
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Listen(IPAddress.Loopback, port, endpoint => endpoint.Protocols = HttpProtocols.Http1);
            });
            var app = builder.Build();
            var callback = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            app.Run(async context =>
            {
                context.Response.ContentType = "text/html";
                context.Response.ContentLength = Page.Length;
                await context.Response.Body.WriteAsync(Page);
                callback.TrySetResult(context.Request.GetDisplayUrl());
            });
            await app.StartAsync(cancellationToken);
            Wire.Send("URL", options.StartUrl);
            try
            {
                var raw = await callback.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
                return new BrowserResult { Response = raw, ResultType = BrowserResultType.Success };
            }
            finally
            {
                // As the sample does: the host is stopped and disposed without holding up the login.
                _ = Task.Run(async () =>
                {
                    await app.StopAsync();
                    await app.DisposeAsync();
                });
            }
        }
    }
}
