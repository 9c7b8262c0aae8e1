using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A discovery provider's metadata read again, seen through its provider actor: the actor kept the descriptor of its
/// first resolution for every later login, and nothing logged a read that failed.
/// </summary>
public sealed class MetadataRefreshActorTests : TestKit, IAsyncLifetime
{
    private const string MetadataPath = "/.well-known/openid-configuration";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly Uri RedirectUri = new("https://localhost:41539/");
    private readonly MovableTimeProvider _clock = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));
    private RecordingServer _server = null!;
    private volatile string _metadata = "";
    private volatile bool _metadataDown;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _server.Handler = (context, request) => request.Path == MetadataPath && !_metadataDown
            ? RecordingServer.Respond(context, 200, "application/json", _metadata)
            : RecordingServer.Respond(context, 503, "text/plain", "down");
        Publish(issParameter: true);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private void Publish(bool issParameter) => _metadata = new JsonObject
    {
        ["issuer"] = _server.BaseUrl,
        ["authorization_endpoint"] = $"{_server.BaseUrl}/authorize",
        ["token_endpoint"] = $"{_server.BaseUrl}/token",
        ["response_types_supported"] = new JsonArray("code"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
        ["authorization_response_iss_parameter_supported"] = issParameter,
    }.ToJsonString();

    private async Task<(OidcDiscoveryStrategy Strategy, IActorRef Registry)> RegisteredAsync()
    {
        var strategy = new OidcDiscoveryStrategy(
            new OidcDiscoveryOptions { Name = "idp", Issuer = _server.BaseUrl, ClientId = "cid", ClientSecret = ProviderTestData.ClientSecret }, _clock);
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait);
        return (strategy, registry);
    }

    private ProviderDescriptor Prepared(IActorRef registry, string loginId)
    {
        registry.Tell(new PrepareAuthorization("idp", loginId, "state-" + loginId, null, RedirectUri, [], new Dictionary<string, string>()));
        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.Equal(loginId, prepared.LoginId);
        return prepared.Descriptor;
    }

    [Fact]
    public async Task Logins_after_a_refresh_are_prepared_with_the_new_metadata_and_those_before_keep_theirs()
    {
        var (strategy, registry) = await RegisteredAsync();
        Assert.True(Prepared(registry, "a").RequiresIssuer);
        Publish(issParameter: false);
        _clock.Now += TimeSpan.FromHours(24);

        // The login that finds the metadata due is prepared with what is held; the read goes on in the background.
        await EventFilter.Info(contains: "metadata was read again and changed").ExpectOneAsync(Wait, () =>
        {
            Assert.True(Prepared(registry, "b").RequiresIssuer);
            return Task.CompletedTask;
        });

        Assert.False(Prepared(registry, "c").RequiresIssuer);
        Assert.Equal(1, strategy.RefreshesStarted);
    }

    [Fact]
    public async Task A_refresh_that_fails_is_logged_as_a_warning_and_logins_go_on()
    {
        var (_, registry) = await RegisteredAsync();
        Prepared(registry, "a");
        _metadataDown = true;
        _clock.Now += TimeSpan.FromHours(24);

        await EventFilter.Warning(contains: "could not be read again").ExpectOneAsync(Wait, () =>
        {
            Assert.True(Prepared(registry, "b").RequiresIssuer);
            return Task.CompletedTask;
        });

        Assert.True(Prepared(registry, "c").RequiresIssuer);
    }
}
