using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace O8Actors.Hosting.Tests.Support;

/// <summary>Builds a Generic Host with O8Actors the way an application does: AddOAuthLogins + AddAkka(...WithOAuthLogins()).</summary>
public static class HostedO8
{
    /// <summary>
    /// A host (not started) configured by <paramref name="settings"/> as its IConfiguration, then by the sources
    /// <paramref name="configuration"/> adds (which win over <paramref name="settings"/>, as a later source does).
    /// </summary>
    public static IHost Build(IDictionary<string, string?> settings, Action<O8HostingOptions>? configure = null, string systemName = "o8-hosted",
        Action<IServiceCollection>? services = null, Action<IConfigurationBuilder>? configuration = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        configuration?.Invoke(builder.Configuration);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddOAuthLogins(configure);
        services?.Invoke(builder.Services);
        builder.Services.AddAkka(systemName, akka => akka.WithOAuthLogins());
        return builder.Build();
    }

    /// <summary>
    /// A started host whose provider <c>sandbox</c> is a fresh public client of <paramref name="sandbox"/> (registered for
    /// the host's redirect URI once it is known), its logins completed by <paramref name="browser"/>.
    /// </summary>
    public static async Task<IHost> StartWithSandboxAsync(SandboxFixture sandbox, O8Actors.TestKit.Browser.ScriptedBrowser browser, string systemName,
        Action<Dictionary<string, string?>>? settings = null, Action<IServiceCollection>? services = null)
    {
        var clientId = systemName + "-" + Guid.NewGuid().ToString("N");
        var all = SandboxSettings(sandbox, clientId);
        settings?.Invoke(all);
        var host = Build(all, o => o.Browser = _ => browser, systemName, services);
        await host.StartAsync();
        var redirect = await host.Services.GetRequiredService<IOAuthLogins>().GetRedirectUriAsync("sandbox", TestContext.Current.CancellationToken);
        sandbox.Server.RegisterClient(clientId, null, [redirect.ToString()], O8Actors.TestKit.Sandbox.ClientAuthMethod.None);
        return host;
    }

    /// <summary>
    /// <see cref="LoopbackSettings"/> with the provider <c>sandbox</c>: the client <paramref name="clientId"/> of
    /// <paramref name="sandbox"/> (which the test registers, with the redirect URI it needs).
    /// </summary>
    public static Dictionary<string, string?> SandboxSettings(SandboxFixture sandbox, string clientId)
    {
        var settings = LoopbackSettings();
        foreach (var (key, value) in sandbox.ProviderSettings("sandbox", clientId)) settings[key] = value;
        return settings;
    }

    /// <summary>Listener settings every test uses: plain http on a free loopback port, IPv4 only.</summary>
    public static Dictionary<string, string?> LoopbackSettings() => new()
    {
        ["O8:Listener:Scheme"] = "http",
        ["O8:Listener:Port"] = "0",
        ["O8:Listener:BindIPv6"] = "false",
        ["O8:Listener:Host"] = "127.0.0.1", // IPv4 only: a localhost redirect could go to [::1]
    };
}
