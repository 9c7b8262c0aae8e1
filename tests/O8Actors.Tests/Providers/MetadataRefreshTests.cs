using System.Text.Json.Nodes;
using System.Threading.Channels;
using O8Actors.Providers;
using O8Actors.Providers.IdTokens;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// Discovery read again after <see cref="OidcDiscoveryOptions.MetadataRefreshInterval"/>, against a loopback server whose
/// metadata the test changes. Before, the first read was kept forever: a provider that moved an endpoint or its key set
/// was followed only after a restart.
/// </summary>
public sealed class MetadataRefreshTests : IAsyncLifetime
{
    private const string MetadataPath = "/.well-known/openid-configuration";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly HttpClient _http = new();
    private readonly MovableTimeProvider _clock = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));
    private readonly TestIdTokens _keys = new();
    private RecordingServer _server = null!;
    private volatile string _metadata = "";
    // Set: the metadata endpoint waits for it before answering (a provider that hangs).
    private volatile TaskCompletionSource? _hold;
    private volatile bool _metadataDown;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _server.Handler = async (context, request) =>
        {
            switch (request.Path)
            {
                case MetadataPath:
                    if (_hold is { } hold) await hold.Task;
                    if (_metadataDown) await RecordingServer.Respond(context, 503, "text/plain", "down");
                    else await RecordingServer.Respond(context, 200, "application/json", _metadata);
                    break;
                case "/token-a" or "/token-b":
                    await RecordingServer.Respond(context, 200, "application/json",
                        new JsonObject { ["access_token"] = "at" + request.Path[^2..], ["token_type"] = "Bearer" }.ToJsonString());
                    break;
                default:
                    await RecordingServer.Respond(context, 404, "text/plain", "not found");
                    break;
            }
        };
        Publish(Metadata());
    }

    public async Task DisposeAsync()
    {
        _hold?.TrySetResult();
        _http.Dispose();
        _keys.Dispose();
        await _server.DisposeAsync();
    }

    private JsonObject Metadata(string tokenPath = "/token-a", string? issuer = null) => new()
    {
        ["issuer"] = issuer ?? _server.BaseUrl,
        ["authorization_endpoint"] = $"{_server.BaseUrl}/authorize",
        ["token_endpoint"] = $"{_server.BaseUrl}{tokenPath}",
        ["response_types_supported"] = new JsonArray("code"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
        ["dpop_signing_alg_values_supported"] = new JsonArray("ES256"),
    };

    private void Publish(JsonObject metadata) => _metadata = metadata.ToJsonString();

    private int MetadataReads => _server.Requests.Count(r => r.Path == MetadataPath);

    private OidcDiscoveryStrategy Strategy(Action<OidcDiscoveryOptions>? change = null)
    {
        var options = new OidcDiscoveryOptions { Name = "idp", Issuer = _server.BaseUrl, ClientId = "cid", ClientSecret = ClientSecret };
        change?.Invoke(options);
        return new OidcDiscoveryStrategy(options, _clock);
    }

    /// <summary>Each background read of the metadata as it ends.</summary>
    private static ChannelReader<MetadataRefreshed> Refreshes(OidcDiscoveryStrategy strategy)
    {
        var reads = Channel.CreateUnbounded<MetadataRefreshed>();
        ((IRefreshesMetadata)strategy).Refreshed += report => reads.Writer.TryWrite(report);
        return reads.Reader;
    }

    private async Task<string> ExchangeAsync(OidcDiscoveryStrategy strategy) =>
        (await strategy.ExchangeCodeAsync(Exchange(), _http, CancellationToken.None)).AccessToken;

    [Fact]
    public async Task The_metadata_is_not_read_again_before_the_interval_and_after_it_the_next_exchange_uses_the_moved_token_endpoint()
    {
        var strategy = Strategy();
        var refreshes = Refreshes(strategy);
        Assert.Equal("at-a", await ExchangeAsync(strategy));
        Publish(Metadata(tokenPath: "/token-b"));

        _clock.Now += TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1);
        Assert.Equal("at-a", await ExchangeAsync(strategy));
        Assert.Equal(0, strategy.RefreshesStarted);
        Assert.Equal(1, MetadataReads);

        // Due: the exchange that finds it due still goes out with the metadata held, and starts the read.
        _clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal("at-a", await ExchangeAsync(strategy));
        var read = await refreshes.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Null(read.Problem);

        Assert.Equal("at-b", await ExchangeAsync(strategy));
        Assert.Equal(_server.Url("/token-b"), strategy.TokenEndpoint);
        Assert.Equal(2, MetadataReads);
        Assert.Equal(1, _server.Requests.Count(r => r.Path == "/token-b"));
    }

    [Fact]
    public async Task After_a_refresh_with_a_new_jwks_uri_id_tokens_are_checked_against_the_new_key_set()
    {
        using var oldKeys = new TestIdTokens();
        var keyA = oldKeys.EcKey("key-a");
        var keyB = _keys.EcKey("key-b");
        var signWith = "a";
        JsonObject WithKeys(string jwks)
        {
            var metadata = Metadata();
            metadata["jwks_uri"] = $"{_server.BaseUrl}/{jwks}";
            return metadata;
        }
        var jwksA = oldKeys.Jwks();
        var jwksB = _keys.Jwks();
        var handler = _server.Handler;
        _server.Handler = (context, request) => request.Path switch
        {
            "/jwks-a" => RecordingServer.Respond(context, 200, "application/json", jwksA),
            "/jwks-b" => RecordingServer.Respond(context, 200, "application/json", jwksB),
            "/token-a" => RecordingServer.Respond(context, 200, "application/json", new JsonObject
            {
                ["access_token"] = "at", ["token_type"] = "Bearer",
                ["id_token"] = TestIdTokens.Mint(TestIdTokens.Claims(_server.BaseUrl, "cid", "n-1", _clock.Now), signWith == "a" ? keyA : keyB),
            }.ToJsonString()),
            _ => handler(context, request),
        };
        Publish(WithKeys("jwks-a"));
        var strategy = Strategy();
        var refreshes = Refreshes(strategy);
        var login = new CodeExchangeContext(Code, Verifier, RedirectUri, "n-1");
        Assert.Equal("user-42", (await strategy.ExchangeCodeAsync(login, _http, CancellationToken.None)).IdTokenClaims?.Subject);

        // The provider moves its keys: a new key set at a new address, and its ID tokens signed with the new key.
        Publish(WithKeys("jwks-b"));
        signWith = "b";
        _clock.Now += TimeSpan.FromHours(24);
        await strategy.ResolveAsync(_http, CancellationToken.None);
        Assert.Null((await refreshes.ReadAsync().AsTask().WaitAsync(Wait)).Problem);

        var tokens = await strategy.ExchangeCodeAsync(login, _http, CancellationToken.None);
        Assert.Equal("user-42", tokens.IdTokenClaims?.Subject);
        Assert.Contains(_server.Requests, r => r.Path == "/jwks-b");
    }

    [Fact]
    public async Task A_refresh_with_the_same_jwks_uri_keeps_the_key_set_held()
    {
        var key = _keys.EcKey("k1");
        var metadata = Metadata();
        metadata["jwks_uri"] = $"{_server.BaseUrl}/jwks";
        Publish(metadata);
        var handler = _server.Handler;
        _server.Handler = (context, request) => request.Path switch
        {
            "/jwks" => RecordingServer.Respond(context, 200, "application/json", _keys.Jwks()),
            "/token-a" => RecordingServer.Respond(context, 200, "application/json", new JsonObject
            {
                ["access_token"] = "at", ["token_type"] = "Bearer",
                ["id_token"] = TestIdTokens.Mint(TestIdTokens.Claims(_server.BaseUrl, "cid", "n-1", _clock.Now), key),
            }.ToJsonString()),
            _ => handler(context, request),
        };
        var strategy = Strategy(o => o.MetadataRefreshInterval = TimeSpan.FromHours(1));
        var refreshes = Refreshes(strategy);
        var login = new CodeExchangeContext(Code, Verifier, RedirectUri, "n-1");
        await strategy.ExchangeCodeAsync(login, _http, CancellationToken.None);

        _clock.Now += TimeSpan.FromHours(1);
        await strategy.ResolveAsync(_http, CancellationToken.None);
        Assert.Null((await refreshes.ReadAsync().AsTask().WaitAsync(Wait)).Problem);
        var fetchesBefore = _server.Requests.Count(r => r.Path == "/jwks");
        Assert.Equal("user-42", (await strategy.ExchangeCodeAsync(login, _http, CancellationToken.None)).IdTokenClaims?.Subject);

        // Discovery read the metadata again (and Duende's client the key set with it), but the validator's keys are the
        // ones it held: no fetch of its own, and no login left without keys should the key endpoint be down just then.
        Assert.Equal(2, MetadataReads);
        Assert.Equal(fetchesBefore, _server.Requests.Count(r => r.Path == "/jwks"));
    }

    [Fact]
    public async Task A_failed_refresh_keeps_the_metadata_held_and_is_tried_again_only_after_a_backoff_whoever_calls()
    {
        var strategy = Strategy();
        var refreshes = Refreshes(strategy);
        await ExchangeAsync(strategy);
        _metadataDown = true;
        _clock.Now += TimeSpan.FromHours(24);

        Assert.Equal("at-a", await ExchangeAsync(strategy));
        var failed = await refreshes.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Contains("HTTP 503", failed.Problem);
        Assert.Equal(JwksCache.FirstRetryDelay, failed.RetryIn);
        AssertNoSecrets(new Exception(failed.Problem));

        // Within the backoff neither a login nor a post anyone can make (a logout token) reads the metadata again.
        using var forgedKey = new TestIdTokens();
        var forged = TestIdTokens.Mint(TestIdTokens.Claims(_server.BaseUrl, "cid", null, _clock.Now), forgedKey.EcKey("x", publish: false));
        _clock.Now += JwksCache.FirstRetryDelay - TimeSpan.FromSeconds(1);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("at-a", await ExchangeAsync(strategy));
            Assert.Null(await strategy.ValidateLogoutTokenAsync(forged, _http, CancellationToken.None));
        }
        Assert.Equal(1, strategy.RefreshesStarted);

        // After it, one read; failing again doubles the backoff.
        _clock.Now += TimeSpan.FromSeconds(1);
        Assert.Null(await strategy.ValidateLogoutTokenAsync(forged, _http, CancellationToken.None));
        Assert.Equal(2, strategy.RefreshesStarted);
        Assert.Equal(2 * JwksCache.FirstRetryDelay, (await refreshes.ReadAsync().AsTask().WaitAsync(Wait)).RetryIn);
        _clock.Now += JwksCache.FirstRetryDelay;
        Assert.Equal("at-a", await ExchangeAsync(strategy));
        Assert.Equal(2, strategy.RefreshesStarted);

        // The provider is back, with its token endpoint moved: the next read due takes it.
        _metadataDown = false;
        Publish(Metadata(tokenPath: "/token-b"));
        _clock.Now += JwksCache.FirstRetryDelay;
        Assert.Equal("at-a", await ExchangeAsync(strategy));
        Assert.Null((await refreshes.ReadAsync().AsTask().WaitAsync(Wait)).Problem);
        Assert.Equal("at-b", await ExchangeAsync(strategy));
        Assert.Equal(3, strategy.RefreshesStarted);
        Assert.Equal(4, MetadataReads);
    }

    public static TheoryData<string> RefusedDocuments => ["issuer", "http endpoint", "no S256 for a public client", "no ES256 with DPoP"];

    [Theory]
    [MemberData(nameof(RefusedDocuments))]
    public async Task A_refreshed_document_that_fails_a_check_of_the_first_read_is_not_taken(string defect)
    {
        var strategy = Strategy(o =>
        {
            if (defect == "no S256 for a public client") o.ClientSecret = null;
            if (defect == "no ES256 with DPoP") o.UseDpop = true;
        });
        var refreshes = Refreshes(strategy);
        await strategy.ResolveAsync(_http, CancellationToken.None);
        var refused = Metadata(tokenPath: "/token-b", issuer: defect == "issuer" ? "https://evil.example.test" : null);
        if (defect == "http endpoint") refused["token_endpoint"] = "http://idp.example.test/token";
        if (defect == "no S256 for a public client") refused["code_challenge_methods_supported"] = new JsonArray("plain");
        if (defect == "no ES256 with DPoP") refused["dpop_signing_alg_values_supported"] = new JsonArray("RS256");
        Publish(refused);
        _clock.Now += TimeSpan.FromHours(24);

        await strategy.ResolveAsync(_http, CancellationToken.None);
        var read = await refreshes.ReadAsync().AsTask().WaitAsync(Wait);

        Assert.NotNull(read.Problem);
        Assert.Null(read.Descriptor);
        Assert.Equal(_server.Url("/token-a"), strategy.TokenEndpoint);
        Assert.Equal(2, MetadataReads);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_refresh_that_drops_or_adds_the_jwks_uri_is_not_taken(bool listedAtFirst)
    {
        // Dropped, logins would go on with no ID-token check (and accounts without their sub); added, logins begun
        // without a nonce would be checked against one. Whether ID tokens are checked is the first read's.
        _keys.EcKey("k1");
        var jwks = _keys.Jwks();
        var handler = _server.Handler;
        _server.Handler = (context, request) => request.Path == "/jwks"
            ? RecordingServer.Respond(context, 200, "application/json", jwks)
            : handler(context, request);
        var first = Metadata();
        if (listedAtFirst) first["jwks_uri"] = _server.Url("/jwks").ToString();
        Publish(first);
        var strategy = Strategy();
        var refreshes = Refreshes(strategy);
        var resolved = await strategy.ResolveAsync(_http, CancellationToken.None);
        var changed = Metadata(tokenPath: "/token-b");
        if (!listedAtFirst) changed["jwks_uri"] = _server.Url("/jwks").ToString();
        Publish(changed);
        _clock.Now += TimeSpan.FromHours(24);

        await strategy.ResolveAsync(_http, CancellationToken.None);
        var read = await refreshes.ReadAsync().AsTask().WaitAsync(Wait);

        Assert.Contains("jwks_uri", read.Problem);
        Assert.Null(read.Descriptor);
        Assert.Equal(_server.Url("/token-a"), strategy.TokenEndpoint);
        Assert.Equal(resolved, ((IRefreshesMetadata)strategy).LatestDescriptor);
    }

    [Fact]
    public async Task A_refresh_that_names_another_issuer_leaves_logins_working_on_the_metadata_held()
    {
        var strategy = Strategy();
        var refreshes = Refreshes(strategy);
        await ExchangeAsync(strategy);
        Publish(Metadata(tokenPath: "/token-b", issuer: "https://evil.example.test"));
        _clock.Now += TimeSpan.FromHours(24);

        Assert.Equal("at-a", await ExchangeAsync(strategy));
        Assert.Contains("https://evil.example.test", (await refreshes.ReadAsync().AsTask().WaitAsync(Wait)).Problem);

        Assert.Equal("at-a", await ExchangeAsync(strategy));
        Assert.Equal(2, MetadataReads);
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/token-b");
    }

    [Fact]
    public async Task No_caller_waits_for_a_refresh_while_the_provider_hangs()
    {
        var strategy = Strategy();
        var refreshes = Refreshes(strategy);
        await ExchangeAsync(strategy);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = hold;
        _clock.Now += TimeSpan.FromHours(24);

        var resolving = strategy.ResolveAsync(_http, CancellationToken.None);
        Assert.True(resolving.IsCompletedSuccessfully);
        await WaitUntil(() => MetadataReads == 2);
        // The read hangs at the provider; logins go on at once with the metadata held.
        Assert.Equal("at-a", await ExchangeAsync(strategy).WaitAsync(Wait));
        Assert.True(strategy.BuildAuthorizeUrlAsync(AuthorizeContext(), _http, CancellationToken.None).IsCompletedSuccessfully);
        Assert.False(refreshes.TryRead(out _));

        _hold = null;
        hold.SetResult();
        Assert.Null((await refreshes.ReadAsync().AsTask().WaitAsync(Wait)).Problem);
    }

    [Fact]
    public async Task Many_callers_after_the_interval_start_exactly_one_refresh()
    {
        var strategy = Strategy();
        var refreshes = Refreshes(strategy);
        await strategy.ResolveAsync(_http, CancellationToken.None);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = hold;
        Publish(Metadata(tokenPath: "/token-b"));
        _clock.Now += TimeSpan.FromHours(24);

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            await go.Task;
            for (var i = 0; i < 25; i++) await strategy.ResolveAsync(_http, CancellationToken.None);
        })).ToArray();
        go.SetResult();
        await Task.WhenAll(callers).WaitAsync(Wait);
        Assert.Equal(1, strategy.RefreshesStarted);
        _hold = null;
        hold.SetResult();
        Assert.Null((await refreshes.ReadAsync().AsTask().WaitAsync(Wait)).Problem);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => strategy.ResolveAsync(_http, CancellationToken.None)));

        Assert.Equal(1, strategy.RefreshesStarted);
        Assert.Equal(2, MetadataReads);
        Assert.Equal(_server.Url("/token-b"), strategy.TokenEndpoint);
    }

    [Fact]
    public async Task A_zero_interval_reads_the_metadata_only_once()
    {
        var strategy = Strategy(o => o.MetadataRefreshInterval = TimeSpan.Zero);
        await ExchangeAsync(strategy);
        Publish(Metadata(tokenPath: "/token-b"));

        _clock.Now += TimeSpan.FromDays(1000);

        Assert.Equal("at-a", await ExchangeAsync(strategy));
        Assert.Equal(0, strategy.RefreshesStarted);
        Assert.Equal(1, MetadataReads);
    }

    [Theory]
    [InlineData(59)]
    [InlineData(-5)]
    public void An_interval_shorter_than_a_minute_is_refused(int seconds)
    {
        var options = new OidcDiscoveryOptions
        {
            Name = "idp", Issuer = "https://idp.test", ClientId = "cid", MetadataRefreshInterval = TimeSpan.FromSeconds(seconds),
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(OidcDiscoveryOptions.MetadataRefreshInterval), error.ParamName);
        options.MetadataRefreshInterval = Timeout.InfiniteTimeSpan;
        options.Validate();
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not hold in time");
            await Task.Delay(20);
        }
    }
}
