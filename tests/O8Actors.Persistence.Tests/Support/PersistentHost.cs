using System.Text;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O8Actors.Browser;
using O8Actors.Hosting;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Persistence.Tests.Support;

/// <summary>
/// One "process" of a server app: a Generic Host with O8Actors and <c>WithOAuthAccountsPersistence</c>, the sandbox as
/// provider <c>sandbox</c>. Two hosts built one after the other on the same database and key ring see what a restarted
/// process sees.
/// </summary>
public static class PersistentHost
{
    /// <summary>A host (not started) whose persistence is set by <paramref name="persistence"/>.</summary>
    public static IHost Build(SandboxAuthorizationServer sandbox, string clientId, IBrowserLauncher browser,
        Action<O8PersistenceOptions, IConfiguration> persistence, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["O8:Listener:Scheme"] = "http",
            ["O8:Listener:Port"] = "0",
            ["O8:Listener:BindIPv6"] = "false",
            ["O8:Listener:Host"] = "127.0.0.1", // IPv4 only: a localhost redirect could go to [::1]
            ["O8:Providers:sandbox:AuthorizationEndpoint"] = sandbox.AuthorizationEndpoint.ToString(),
            ["O8:Providers:sandbox:TokenEndpoint"] = sandbox.TokenEndpoint.ToString(),
            ["O8:Providers:sandbox:Issuer"] = sandbox.IssuerString,
            ["O8:Providers:sandbox:ClientId"] = clientId,
            ["O8:Providers:sandbox:ClientAuthentication"] = "None",
            ["O8:Providers:sandbox:DefaultScopes:0"] = "openid",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddOAuthLogins(o => o.Browser = _ => browser);
        builder.Services.AddAkka("o8-persistent", (akka, services) => akka
            .WithOAuthLogins()
            .WithOAuthAccountsPersistence(o => persistence(o, services.GetRequiredService<IConfiguration>())));
        return builder.Build();
    }

    /// <summary>Where <paramref name="secret"/> occurs in <paramref name="bytes"/>, as UTF-8 (or -1).</summary>
    public static int Find(byte[] bytes, string secret) => bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret));

    /// <summary>The secrets of <paramref name="tokens"/> that must not be found at rest.</summary>
    public static IEnumerable<string> Secrets(TokenSet tokens)
    {
        yield return tokens.AccessToken;
        if (tokens.RefreshToken is { } refresh) yield return refresh;
        if (tokens.IdToken is { } id) yield return id;
    }
}

/// <summary>One sandbox authorization server (plain http on loopback) per test class.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    /// <summary>The sandbox.</summary>
    public SandboxAuthorizationServer Server { get; private set; } = null!;

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => Server = await SandboxAuthorizationServer.StartAsync(new SandboxOptions());

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}
