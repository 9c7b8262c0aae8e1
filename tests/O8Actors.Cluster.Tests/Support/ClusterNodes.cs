using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O8Actors.Hosting;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests.Support;

/// <summary>
/// What the nodes of a test cluster share: one sandbox authorization server (the provider), one development CA for
/// their https certificates, one Data Protection key ring (a folder, its key made before any node starts, so every node
/// checks every browser binding) and one public client of the sandbox whose redirect URI is the cluster's public callback.
/// </summary>
public sealed class ClusterNodes : IAsyncDisposable
{
    /// <summary>The response header naming the node that answered (its actor system and https port: every node of a cluster has the same system name).</summary>
    public const string NodeHeader = LoopbackClusterNode.NodeHeader;
    private readonly SharedKeyRing _keys = new("o8-cluster-tests");

    private ClusterNodes(SandboxAuthorizationServer sandbox, Uri publicCallback)
    {
        Sandbox = sandbox;
        PublicCallback = publicCallback;
        ClientId = "cluster-" + Guid.NewGuid().ToString("N");
        sandbox.RegisterClient(ClientId, null, [publicCallback + "/sandbox"], ClientAuthMethod.None);
    }

    /// <summary>The sandbox.</summary>
    public SandboxAuthorizationServer Sandbox { get; }

    /// <summary>The callback URI every node announces (a node's own, or the proxy's in front of them).</summary>
    public Uri PublicCallback { get; }

    /// <summary>The sandbox client all nodes share.</summary>
    public string ClientId { get; }

    /// <summary>The CA of every https certificate here.</summary>
    public DevelopmentCertificateAuthority Ca { get; } = DevelopmentCertificateAuthority.Create();

    /// <summary>Every login begun on any node, by login id (the app's <c>POST /connect</c> records them).</summary>
    public ConcurrentDictionary<string, PendingLogin> Logins { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// What each node's <see cref="IClusterLoginOutcomeHandler"/> saw, by login id: the node it ran on (its
    /// <see cref="NodeHeader"/> value) and the outcome. Every node registers one.
    /// </summary>
    public ConcurrentDictionary<string, ConcurrentQueue<(string Node, ClusterLoginEnded Ended)>> Handled { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The token each node's <see cref="IClusterLoginOutcomeHandler"/> was given, by login id, and whether it was already
    /// cancelled when the handler ran.
    /// </summary>
    public ConcurrentDictionary<string, (bool CancelledWhenRun, CancellationToken Token)> HandlerTokens { get; } = new(StringComparer.Ordinal);

    private sealed class RecordingHandler(ClusterNodes nodes, string node) : IClusterLoginOutcomeHandler
    {
        public Task HandleAsync(ClusterLoginEnded ended, CancellationToken cancellationToken)
        {
            nodes.HandlerTokens[ended.LoginId] = (cancellationToken.IsCancellationRequested, cancellationToken);
            nodes.Handled.GetOrAdd(ended.LoginId, _ => new()).Enqueue((node, ended));
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Starts the sandbox (with <paramref name="sandbox"/>, or its defaults); <paramref name="publicCallback"/> is the URI
    /// the provider redirects to.
    /// </summary>
    public static async Task<ClusterNodes> StartAsync(Uri publicCallback, SandboxOptions? sandbox = null) =>
        new(await SandboxAuthorizationServer.StartAsync(sandbox ?? new SandboxOptions()), publicCallback);

    /// <summary>
    /// Settings of an OpenID provider named <paramref name="provider"/> on the sandbox beside the plain <c>sandbox</c>
    /// provider: the sandbox's issuer and keys, so its ID and logout tokens are checked.
    /// </summary>
    public Dictionary<string, string?> OidcProviderSettings(string provider) => new()
    {
        [$"O8:Providers:{provider}:AuthorizationEndpoint"] = Sandbox.AuthorizationEndpoint.ToString(),
        [$"O8:Providers:{provider}:TokenEndpoint"] = Sandbox.TokenEndpoint.ToString(),
        [$"O8:Providers:{provider}:Issuer"] = Sandbox.IssuerString,
        [$"O8:Providers:{provider}:JwksUri"] = Sandbox.JwksUri.ToString(),
        [$"O8:Providers:{provider}:ClientId"] = ClientId,
        [$"O8:Providers:{provider}:ClientAuthentication"] = "None",
    };

    /// <summary>
    /// A node (<see cref="LoopbackClusterNode"/>) on https://127.0.0.1:<paramref name="httpsPort"/> with the sandbox as
    /// provider and <c>POST /connect/{provider}?user=</c> (<c>&amp;account=</c>: the account key to remember a login as); <paramref name="clustering"/> adds remoting and cluster
    /// formation; <paramref name="cluster"/>, the options of <c>WithOAuthLoginsCluster</c>. Started before it returns.
    /// </summary>
    public async Task<WebApplication> StartNodeAsync(string systemName, int httpsPort, Action<AkkaConfigurationBuilder> clustering,
        IReadOnlyDictionary<string, string?>? settings = null, Action<O8ClusterOptions>? cluster = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["O8:Providers:sandbox:AuthorizationEndpoint"] = Sandbox.AuthorizationEndpoint.ToString(),
            ["O8:Providers:sandbox:TokenEndpoint"] = Sandbox.TokenEndpoint.ToString(),
            ["O8:Providers:sandbox:Issuer"] = Sandbox.IssuerString,
            ["O8:Providers:sandbox:EndSessionEndpoint"] = Sandbox.EndSessionEndpoint.ToString(),
            // For an account's device login (a browser login started by an account is refused in server mode).
            ["O8:Providers:sandbox:DeviceAuthorizationEndpoint"] = Sandbox.DeviceAuthorizationEndpoint.ToString(),
            ["O8:Providers:sandbox:ClientId"] = ClientId,
            ["O8:Providers:sandbox:ClientAuthentication"] = "None",
            ["O8:Providers:sandbox:DefaultScopes:0"] = "openid",
            ["O8:Listener:ExternalRedirectUri"] = PublicCallback.ToString(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        var node = $"{systemName}:{httpsPort}";
        return await LoopbackClusterNode.StartAsync(new LoopbackNodeOptions
        {
            SystemName = systemName,
            HttpsPort = httpsPort,
            Certificate = Ca.IssueServerCertificate(),
            KeyRing = _keys,
            Clustering = clustering,
            ClusterOptions = cluster,
            NodeName = node,
            Configure = builder =>
            {
                if (FileLog.Path is { } logPath)
                {
                    builder.Logging.SetMinimumLevel(LogLevel.Information);
                    builder.Logging.AddProvider(new FileLog(node, logPath));
                }

                builder.Configuration.AddInMemoryCollection(all);
                builder.Services.AddOAuthLogins();
                builder.Services.AddSingleton<IClusterLoginOutcomeHandler>(new RecordingHandler(this, node));
            },
            Map = web => web.MapPost("/connect/{provider}",
                async (string provider, string user, int? timeoutSeconds, string? account, HttpContext context, IOAuthConnector connector) =>
                {
                    // With an account key, a successful login is remembered as that account (the sandbox's ID tokens are not validated).
                    var login = await connector.BeginAsync(context, provider,
                        Hint(user, timeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null) with { AccountKey = account });
                    Logins[login.LoginId] = login;
                    return Results.Redirect(login.AuthorizeUrl.ToString());
                }),
        }, TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// One user's browser: its own cookie jar, trusting <see cref="Ca"/>, following no redirect itself (the test follows
    /// each 302, as a browser would, and sees every hop).
    /// </summary>
    public HttpClient Browser() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = true,
        CookieContainer = new CookieContainer(),
        SslOptions = { RemoteCertificateValidationCallback = Ca.CreateValidationCallback() },
        PooledConnectionLifetime = TimeSpan.FromSeconds(30),
    }, disposeHandler: true)
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>A request whose <c>login_hint</c> chooses the sandbox's decision (alice → approve, deny-… → deny, hang-… → never answer).</summary>
    public static AuthorizationRequest Hint(string hint, TimeSpan? timeout = null) =>
        new(Timeout: timeout, ExtraParameters: new Dictionary<string, string> { ["login_hint"] = hint });

    /// <summary>The <c>sub</c> claim of an ID token.</summary>
    public static string? Subject(string idToken)
    {
        var payload = idToken.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
        return json.RootElement.TryGetProperty("sub", out var sub) ? sub.GetString() : null;
    }

    /// <summary>The <c>state</c> of an authorize URL.</summary>
    public static string StateOf(Uri authorizeUrl) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorizeUrl.Query)["state"].Single()!;

    /// <summary>A free loopback port.</summary>
    public static int FreePort() => O8Actors.TestSupport.FreePorts.Next();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Sandbox.DisposeAsync();
        Ca.Dispose();
        _keys.Dispose();
    }
}
