using Microsoft.Extensions.Configuration;
using O8Actors.Hosting;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests.Support;

/// <summary>Builds the one provider that <c>O8:Providers:…</c> settings describe, as the host does at start.</summary>
internal static class ConfiguredProviderSettings
{
    /// <param name="providers">Settings under <c>O8:Providers:</c> (for example <c>crm:ClientId</c>).</param>
    public static ProviderStrategy BuildOne(Dictionary<string, string?> providers)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(providers.ToDictionary(p => "O8:Providers:" + p.Key, p => p.Value))
            .Build();
        return Assert.Single(ConfiguredProviders.Build(configuration.GetSection("O8:Providers")));
    }
}
