using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Hosting;
using O8Actors.Runtime;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// Two nodes where logins run only on the back one (the logins' role) and are begun and called back on the front one,
/// so every outcome crosses Akka.Remote. The sandbox issues access tokens that fill a token response nearly up to the
/// most O8Actors reads (<see cref="O8Bootstrap.MaxResponseBytes"/>). The front node sets its own frame size, which must
/// win over the package's default.
/// </summary>
public class FrontAndBackNodes : IAsyncLifetime
{
    private readonly int? _accessTokenLength;
    private readonly long? _backFrameSize;

    /// <summary>The nodes this summary describes.</summary>
    public FrontAndBackNodes() : this(AccessTokenLength, null)
    {
    }

    /// <summary>Nodes whose sandbox issues access tokens of <paramref name="accessTokenLength"/> (null: the sandbox's), the back node's frame <paramref name="backFrameSize"/> (null: the package's).</summary>
    protected FrontAndBackNodes(int? accessTokenLength, long? backFrameSize) => (_accessTokenLength, _backFrameSize) = (accessTokenLength, backFrameSize);

    public const string LoginsRole = "o8-logins";

    /// <summary>The access tokens' length: the response (the token, the raw body's other fields) stays within 1 MiB.</summary>
    public const int AccessTokenLength = O8Bootstrap.MaxResponseBytes - 4096;

    /// <summary>The front node's own <c>maximum-frame-size</c>.</summary>
    public const long FrontFrameSize = 12L * 1024 * 1024;

    public ClusterNodes Nodes { get; private set; } = null!;

    public WebApplication Front { get; private set; } = null!;

    public WebApplication Back { get; private set; } = null!;

    public int FrontPort { get; private set; }

    public string BackName { get; private set; } = "";

    /// <summary>Settings both nodes get on top of the sandbox provider's (null: none).</summary>
    protected virtual IReadOnlyDictionary<string, string?>? NodeSettings => null;

    public async ValueTask InitializeAsync()
    {
        var https = new[] { ClusterNodes.FreePort(), ClusterNodes.FreePort() };
        var remoting = new[] { ClusterNodes.FreePort(), ClusterNodes.FreePort() };
        var contacts = new[] { ClusterNodes.FreePort(), ClusterNodes.FreePort() };
        FrontPort = https[0];
        BackName = $"o8-large:{https[1]}";
        Nodes = await ClusterNodes.StartAsync(new Uri($"https://127.0.0.1:{https[0]}/oauth/callback"),
            new SandboxOptions { AccessTokenLength = _accessTokenLength });
        var nodes = await Task.WhenAll(
            Nodes.StartNodeAsync("o8-large", https[0], akka => akka
                .WithRemoting(new RemoteOptions { HostName = "127.0.0.1", Port = remoting[0], MaxFrameSize = FrontFrameSize })
                .WithBootstrapOnLoopback(contacts, contacts[0], requiredContactPoints: 2), NodeSettings, cluster: o => o.Role = LoginsRole),
            Nodes.StartNodeAsync("o8-large", https[1], akka => akka
                .WithRemoting(new RemoteOptions { HostName = "127.0.0.1", Port = remoting[1], MaxFrameSize = _backFrameSize })
                .WithBootstrapOnLoopback(contacts, contacts[1], requiredContactPoints: 2, clustering: new ClusterOptions { Roles = [LoginsRole] }),
                NodeSettings, cluster: o => o.Role = LoginsRole));
        (Front, Back) = (nodes[0], nodes[1]);
        await ClusterFormation.WaitForUpAsync(nodes, TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Alice signs in through the front node, a browser following each redirect: the login begun there and the status of
    /// the callback's page.
    /// </summary>
    public async Task<(PendingLogin Login, HttpStatusCode Landing)> SignInAsync(CancellationToken ct)
    {
        using var browser = Nodes.Browser();
        using var connect = await browser.PostAsync(new Uri($"https://127.0.0.1:{FrontPort}/connect/sandbox?user=alice"), null, ct);
        Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
        var login = Nodes.Logins.Values.Single(l => l.AuthorizeUrl == connect.Headers.Location);
        using var authorize = await browser.GetAsync(login.AuthorizeUrl, ct);
        using var landing = await browser.GetAsync(authorize.Headers.Location, ct);
        return (login, landing.StatusCode);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await ClusterShutdown.StopAllAsync(new[] { Front, Back }.OfType<WebApplication>());

        if (Nodes is not null) await Nodes.DisposeAsync();
    }
}

/// <summary>
/// A login's outcome carries its tokens (and the raw token response) from the node that ran it to the node that began
/// it, in one Akka.Remote message: Akka.Remote's default frame (128,000 bytes) dropped one with a big token, and the
/// caller got <c>Failed(NodeLost)</c> instead of its tokens. The package's defaults make the frame hold it.
/// </summary>
public sealed class LargeOutcomeTests(FrontAndBackNodes cluster) : IClassFixture<FrontAndBackNodes>
{
    [Fact]
    public async Task An_outcome_whose_token_response_is_near_the_largest_read_reaches_the_caller_on_another_node()
    {
        var ct = TestContext.Current.CancellationToken;
        var (login, landing) = await cluster.SignInAsync(ct);
        Assert.Equal(HttpStatusCode.OK, landing);

        var outcome = await login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct);
        // Before the package set the frame size: Failed(NodeLost), the outcome dropped as an oversized payload.
        var success = outcome as LoginSucceeded ?? throw Xunit.Sdk.FailException.ForFailure($"{outcome} {(outcome as LoginFailed)?.Reason}");

        Assert.Equal(FrontAndBackNodes.AccessTokenLength, success.Tokens.AccessToken.Length);
        Assert.Equal("alice", ClusterNodes.Subject(success.Tokens.IdToken!));
        // It ran on the back node (the only one with the logins' role): the outcome crossed the network.
        await Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(login.LoginId), "the outcome handler ran");
        Assert.Equal(cluster.BackName, Assert.Single(cluster.Nodes.Handled[login.LoginId]).Node);
        // What crossed: far more than Akka.Remote's default frame, within the package's.
        var system = cluster.Back.Services.GetRequiredService<ActorSystem>();
        var ended = new LoginEnded(login.LoginId, WireOutcome.From(success));
        long size = system.Serialization.FindSerializerFor(ended).ToBinary(ended).Length;
        Assert.InRange(size, 2L * 128_000, FrameSize(cluster.Back) ?? 0);
    }

    [Fact]
    public void The_package_sets_the_frame_and_socket_buffers_and_an_apps_own_frame_size_wins()
    {
        var defaults = ClusterDefaults.Config;
        var frame = defaults.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size");
        Assert.Equal(frame, FrameSize(cluster.Back));
        Assert.Equal(frame, Config(cluster.Back).GetByteSize("akka.remote.dot-netty.tcp.send-buffer-size"));
        Assert.Equal(frame, Config(cluster.Back).GetByteSize("akka.remote.dot-netty.tcp.receive-buffer-size"));
        Assert.Equal(FrontAndBackNodes.FrontFrameSize, FrameSize(cluster.Front));
    }

    private static Akka.Configuration.Config Config(WebApplication node) => node.Services.GetRequiredService<ActorSystem>().Settings.Config;

    private static long? FrameSize(WebApplication node) => Config(node).GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size");
}

/// <summary>The back node's frame (256 KiB) is smaller than the outcomes of its logins (300,000-character access tokens).</summary>
public sealed class SmallBackFrameNodes() : FrontAndBackNodes(300_000, BackFrameSize)
{
    /// <summary>The back node's own <c>maximum-frame-size</c>.</summary>
    public const long BackFrameSize = 256 * 1024;
}

/// <summary>
/// An outcome that cannot fit the frame of the node that ran the login: Akka.Remote dropped it, the entity stopped, and
/// the caller got <c>Failed(NodeLost)</c>, as if that node had died. The entity now sees it coming and sends a failure
/// that says what happened.
/// </summary>
public sealed class OversizedOutcomeTests(SmallBackFrameNodes cluster) : IClassFixture<SmallBackFrameNodes>
{
    [Fact]
    public async Task The_caller_on_another_node_learns_the_tokens_were_too_large_to_carry_not_that_the_node_was_lost()
    {
        var ct = TestContext.Current.CancellationToken;
        var (login, _) = await cluster.SignInAsync(ct);

        var outcome = await login.Outcome.WaitAsync(TimeSpan.FromSeconds(30), ct);

        var failed = outcome as LoginFailed ?? throw Xunit.Sdk.FailException.ForFailure($"{outcome}");
        Assert.Equal(LoginFailure.TokenExchange, failed.Failure);
        Assert.Contains("issued tokens", failed.Reason, StringComparison.Ordinal);
        Assert.Contains($"{SmallBackFrameNodes.BackFrameSize} bytes", failed.Reason, StringComparison.Ordinal);
        // The login did succeed where it ran: that node's outcome handler got the tokens.
        await Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(login.LoginId), "the outcome handler ran");
        var (node, ended) = Assert.Single(cluster.Nodes.Handled[login.LoginId]);
        Assert.Equal(cluster.BackName, node);
        var tokens = Assert.IsType<LoginSucceeded>(ended.Outcome).Tokens;
        Assert.DoesNotContain(tokens.AccessToken[..64], failed.Reason, StringComparison.Ordinal);
    }
}
