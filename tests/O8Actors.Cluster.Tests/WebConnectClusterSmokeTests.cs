using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Examples.WebConnect;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// <c>examples/WebConnect -- --cluster 3</c>, started in-process as the documented command starts it: three nodes (actor
/// systems over Akka.Remote with TLS, each its own Kestrel) behind the example's YARP proxy. A user's browser (an
/// HttpClient with a cookie jar, following each redirect itself) signs in to the app through the proxy, connects the
/// sandbox account, and sees the connection listed; every request may land on any node.
/// </summary>
public sealed partial class WebConnectClusterSmokeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_three_node_mode_signs_a_demo_user_in_through_the_proxy_and_lists_the_connection()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = FreePorts.Next();
        var keys = Directory.CreateTempSubdirectory("o8-webconnect-keys-");
        var summary = new StringWriter();
        string[] args =
        [
            // --urls alone moves the public address and the callback URI with it (the README's promise).
            "--cluster", "3", "--urls", $"https://localhost:{port}", $"--Cluster:KeyRing={keys.FullName}",
            // As `dotnet run --project examples/WebConnect` does: the example's own folder, with its appsettings.json.
            "--contentRoot", ExampleFolder(),
        ];
        try
        {
            Assert.Equal(3, ClusterMode.NodeCount(args));
            await using var cluster = await ClusterMode.StartAsync(args, 3, summary, ct);
            var printed = summary.ToString();
            Assert.Contains($"proxy   https://localhost:{port}/", printed, StringComparison.Ordinal);
            Assert.Equal(3, NodeLine().Matches(printed).Count);
            Assert.Contains("akka.ssl.tcp://web-connect@127.0.0.1:", printed, StringComparison.Ordinal);
            foreach (var node in cluster.Nodes)
            {
                // Remoting over TLS, and the package's keep-majority split brain resolver in force on every node.
                var config = node.Services.GetRequiredService<ActorSystem>().Settings.Config;
                Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
                Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
                Assert.Equal(3, Akka.Cluster.Cluster.Get(node.Services.GetRequiredService<ActorSystem>()).State.Members.Count);
            }

            var nodesSeen = new HashSet<string>(StringComparer.Ordinal);
            using var browser = new HttpClient(new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                CookieContainer = new CookieContainer(),
                SslOptions =
                {
                    // The proxy serves the example's certificate (mkcert's, or the demo CA's): trust exactly that one.
                    RemoteCertificateValidationCallback = (_, presented, _, _) =>
                        presented is not null && presented.GetCertHashString() == cluster.Certificate.GetCertHashString(),
                },
            }) { BaseAddress = cluster.PublicRoot, Timeout = Wait };

            async Task<HttpResponseMessage> Send(HttpMethod method, string url, Dictionary<string, string>? form = null)
            {
                using var request = new HttpRequestMessage(method, url) { Content = form is null ? null : new FormUrlEncodedContent(form) };
                var response = await browser.SendAsync(request, ct);
                if (response.Headers.TryGetValues(ClusterMode.NodeHeader, out var node)) nodesSeen.Add(node.Single());
                return response;
            }

            // Sign in to the app (the login form's antiforgery token, then the demo user's password).
            using var loginPage = await Send(HttpMethod.Get, "/login");
            using var signIn = await Send(HttpMethod.Post, "/login", new()
            {
                ["user"] = "alice", ["password"] = "alice-demo", ["__RequestVerificationToken"] = await TokenAsync(loginPage),
            });
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            Assert.Equal("/", signIn.Headers.Location!.OriginalString);

            // Connect the sandbox account: the app answers 302 to the provider (and sets the login's binding cookie) ...
            using var home = await Send(HttpMethod.Get, "/");
            Assert.Equal(HttpStatusCode.OK, home.StatusCode);
            // A provider the app does not have is a 404 problem, not a bare 500.
            using (var unknown = await Send(HttpMethod.Post, "/connect/nosuch", new() { ["__RequestVerificationToken"] = await TokenAsync(home) }))
                Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            using var connect = await Send(HttpMethod.Post, "/connect/sandbox", new() { ["__RequestVerificationToken"] = await TokenAsync(home) });
            Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            // ... the sandbox approves alice (login_hint) and redirects to the proxy's callback ...
            using var authorize = await Send(HttpMethod.Get, connect.Headers.Location!.ToString());
            Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
            var callback = authorize.Headers.Location!;
            Assert.Equal(cluster.PublicRoot.Authority, callback.Authority);
            // ... whichever node takes it finds the login, checks the cookie and exchanges the code.
            using var landing = await Send(HttpMethod.Get, callback.PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);

            // The connection is listed, through the proxy, as succeeded (the outcome completes on the beginning node).
            string? status = null;
            await Eventually.AssertAsync(async () =>
            {
                using var list = await Send(HttpMethod.Get, "/connections");
                Assert.Equal(HttpStatusCode.OK, list.StatusCode);
                using var json = JsonDocument.Parse(await list.Content.ReadAsStringAsync(ct));
                status = json.RootElement.GetProperty("sandbox").GetProperty("status").GetString();
                Assert.Equal("Succeeded", status);
            }, Wait);
            Assert.NotEmpty(nodesSeen);
            TestContext.Current.TestOutputHelper?.WriteLine($"Requests answered by: {string.Join(", ", nodesSeen.Order())}\n{printed}");
        }
        finally
        {
            keys.Delete(recursive: true);
        }
    }

    /// <summary>examples/WebConnect, found from the test's output folder upwards (next to O8Actors.sln).</summary>
    internal static string ExampleFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "O8Actors.sln"))) return Path.Combine(folder.FullName, "examples", "WebConnect");
        }

        throw new InvalidOperationException($"No O8Actors.sln above {AppContext.BaseDirectory}.");
    }

    private static async Task<string> TokenAsync(HttpResponseMessage page)
    {
        var match = AntiforgeryField().Match(await page.Content.ReadAsStringAsync());
        Assert.True(match.Success, "the page has an antiforgery token");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex(@"^  node\d   https://127\.0\.0\.1:\d+/", RegexOptions.Multiline)]
    private static partial Regex NodeLine();
}
