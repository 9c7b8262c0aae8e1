using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using O8Actors.Accounts;
using O8Actors.Hosting;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// <c>IHttpClientFactory</c> builds a client's handlers anew every handler lifetime (2 minutes by default). What the
/// access-token handler learns (a token the API refused after its renewal, the APIs' DPoP nonces) stays with the client
/// across those rebuilds: before, each rebuild cost a refresh for an API that refuses the account's tokens, and a round
/// trip for a nonce.
/// </summary>
public sealed class AccessTokenHandlerMemoryTests
{
    [Fact]
    public void The_handlers_a_client_is_built_with_over_time_share_one_memory_and_another_client_has_its_own()
    {
        var services = new ServiceCollection();
        services.AddOAuthLogins();
        services.AddHttpClient("api").AddOAuthAccessToken("sandbox", "bob");
        services.AddHttpClient("other").AddOAuthAccessToken("sandbox", "bob");
        using var provider = services.BuildServiceProvider();

        var first = HandlerOf(provider, "api");
        var rebuilt = HandlerOf(provider, "api");
        var other = HandlerOf(provider, "other");

        Assert.NotSame(first, rebuilt);
        Assert.Same(first.Memory, rebuilt.Memory);
        Assert.NotSame(first.Memory, other.Memory);
    }

    /// <summary>Builds <paramref name="client"/>'s handler chain as the factory does at each handler lifetime, and returns its access-token handler.</summary>
    private static AccessTokenHandler HandlerOf(IServiceProvider services, string client)
    {
        var options = services.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(client);
        using var scope = services.CreateScope();
        var builder = new ChainBuilder(client, scope.ServiceProvider);
        foreach (var action in options.HttpMessageHandlerBuilderActions) action(builder);
        return Assert.Single(builder.AdditionalHandlers.OfType<AccessTokenHandler>());
    }

    private sealed class ChainBuilder(string name, IServiceProvider services) : HttpMessageHandlerBuilder
    {
        public override string? Name { get; set; } = name;

        public override HttpMessageHandler PrimaryHandler { get; set; } = new HttpClientHandler();

        public override IList<DelegatingHandler> AdditionalHandlers { get; } = [];

        public override IServiceProvider Services => services;

        public override HttpMessageHandler Build() => CreateHandlerPipeline(PrimaryHandler, AdditionalHandlers);
    }
}
