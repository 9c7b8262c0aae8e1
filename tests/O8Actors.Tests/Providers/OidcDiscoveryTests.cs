using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Providers;
using O8Actors.Runtime;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>Discovery against a local Kestrel app that serves metadata, keys and a token endpoint.</summary>
public sealed class OidcDiscoveryTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private JsonObject Metadata(string? issuer = null) => new()
    {
        ["issuer"] = issuer ?? _server.BaseUrl,
        ["authorization_endpoint"] = $"{_server.BaseUrl}/connect/authorize",
        ["token_endpoint"] = $"{_server.BaseUrl}/connect/token",
        ["jwks_uri"] = $"{_server.BaseUrl}/jwks",
        ["response_types_supported"] = new JsonArray("code"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
        ["authorization_response_iss_parameter_supported"] = true,
    };

    /// <summary>Serves <paramref name="metadata"/> at <paramref name="path"/>, keys at /jwks, tokens at /connect/token.</summary>
    private void Serve(string path, JsonObject metadata) => _server.Handler = (context, request) => request.Path switch
    {
        var p when p == path => RecordingServer.Respond(context, 200, "application/json", metadata.ToJsonString()),
        "/jwks" => RecordingServer.Respond(context, 200, "application/json", """{"keys":[]}"""),
        "/connect/token" => RecordingServer.Respond(context, 200, "application/json", """{"access_token":"at","token_type":"Bearer"}"""),
        _ => RecordingServer.Respond(context, 404, "text/plain", "not found"),
    };

    private OidcDiscoveryStrategy Strategy(string? issuer = null, Action<OidcDiscoveryOptions>? change = null, TimeProvider? time = null)
    {
        var options = new OidcDiscoveryOptions { Name = "idp", Issuer = issuer ?? _server.BaseUrl, ClientId = "cid", ClientSecret = ClientSecret };
        change?.Invoke(options);
        return new OidcDiscoveryStrategy(options, time);
    }

    [Fact]
    public async Task Reads_endpoints_pkce_and_iss_support_from_openid_configuration()
    {
        Serve("/.well-known/openid-configuration", Metadata());
        var strategy = Strategy();

        var descriptor = await strategy.ResolveAsync(_http, CancellationToken.None);

        Assert.Equal(new ProviderDescriptor(_server.BaseUrl, IssuerParameterSupported: true, SupportsPkce: true), descriptor);
        Assert.Equal(_server.Url("/connect/authorize"), strategy.AuthorizationEndpoint);
        Assert.Equal(_server.Url("/connect/token"), strategy.TokenEndpoint);
        var url = strategy.BuildAuthorizeUrl(AuthorizeContext());
        Assert.Equal($"{_server.BaseUrl}/connect/authorize", url.GetLeftPart(UriPartial.Path));
        var query = Query(url);
        Assert.Equal("openid", query["scope"]);
        Assert.Equal(Challenge, query["code_challenge"]);
        Assert.Equal(State, query["state"]);
    }

    [Fact]
    public async Task Exchanges_codes_at_the_discovered_token_endpoint()
    {
        Serve("/.well-known/openid-configuration", Metadata());
        var strategy = Strategy();
        await strategy.ResolveAsync(_http, CancellationToken.None);

        var tokens = await strategy.ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.Equal("at", tokens.AccessToken);
        var request = _server.Requests.Single(r => r.Path == "/connect/token");
        Assert.Equal(Code, request.Form["code"]);
        // No auth methods listed: RFC 8414 default client_secret_basic.
        Assert.StartsWith("Basic ", request.Authorization);
        Assert.Equal(ClientAuthentication.Basic, strategy.ClientAuthentication);
    }

    [Fact]
    public async Task Caches_the_metadata_after_the_first_lookup()
    {
        Serve("/.well-known/openid-configuration", Metadata());
        var strategy = Strategy();

        await strategy.ResolveAsync(_http, CancellationToken.None);
        var countAfterFirst = _server.Requests.Count;
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => strategy.ResolveAsync(_http, CancellationToken.None)));

        Assert.Equal(countAfterFirst, _server.Requests.Count);
        Assert.Equal(1, _server.Requests.Count(r => r.Path == "/.well-known/openid-configuration"));
    }

    [Fact]
    public async Task Concurrent_first_lookups_share_one_request()
    {
        Serve("/.well-known/openid-configuration", Metadata());
        var strategy = Strategy();

        var descriptors = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => strategy.ResolveAsync(_http, CancellationToken.None)));

        Assert.All(descriptors, d => Assert.Equal(descriptors[0], d));
        Assert.Equal(1, _server.Requests.Count(r => r.Path == "/.well-known/openid-configuration"));
    }

    /// <summary>
    /// The first lookup used to run on its first caller's token: a login cancelled (or timed out) while the provider's
    /// metadata was on its way failed every other login waiting for the same lookup.
    /// </summary>
    [Fact]
    public async Task A_caller_that_gives_up_on_the_first_lookup_fails_no_other_caller_waiting_for_it()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var metadata = Metadata().ToJsonString();
        _server.Handler = async (context, request) =>
        {
            arrived.TrySetResult();
            await release.Task;
            await RecordingServer.Respond(context, 200, "application/json", metadata);
        };
        var strategy = Strategy();
        using var first = new CancellationTokenSource();

        var givingUp = strategy.ResolveAsync(_http, first.Token);
        var waiting = strategy.ResolveAsync(_http, CancellationToken.None);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await first.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => givingUp);
        Assert.False(waiting.IsCompleted);
        release.SetResult();
        var descriptor = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(_server.BaseUrl, descriptor.Issuer);
        Assert.Equal(1, _server.Requests.Count(r => r.Path == "/.well-known/openid-configuration"));
    }

    [Fact]
    public async Task Falls_back_to_rfc8414_metadata_with_path_insertion()
    {
        var issuer = $"{_server.BaseUrl}/tenant-a";
        var metadata = Metadata(issuer);
        metadata.Remove("jwks_uri");
        Serve("/.well-known/oauth-authorization-server/tenant-a", metadata);

        var descriptor = await Strategy(issuer).ResolveAsync(_http, CancellationToken.None);

        Assert.Equal(issuer, descriptor.Issuer);
        Assert.Equal(
            ["/tenant-a/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant-a"],
            _server.Requests.Select(r => r.Path).ToArray());
    }

    [Fact]
    public async Task Issuer_mismatch_is_rejected()
    {
        Serve("/.well-known/openid-configuration", Metadata(issuer: "https://evil.example.test"));
        var strategy = Strategy();

        var error = await Assert.ThrowsAsync<IssuerMismatchException>(() => strategy.ResolveAsync(_http, CancellationToken.None));

        Assert.Contains("https://evil.example.test", error.Message);
        Assert.Contains(_server.BaseUrl, error.Message);
        Assert.Throws<InvalidOperationException>(() => strategy.BuildAuthorizeUrl(AuthorizeContext()));
    }

    [Fact]
    public async Task A_mismatched_issuer_is_quoted_cleaned_so_it_cannot_forge_a_log_line()
    {
        Serve("/.well-known/openid-configuration", Metadata(issuer: "https://evil.example.test\n[WARN] forged" + new string('a', 2000)));

        var error = await Assert.ThrowsAsync<IssuerMismatchException>(() => Strategy().ResolveAsync(_http, CancellationToken.None));

        Assert.DoesNotContain(error.Message, char.IsControl);
        Assert.Contains("https://evil.example.test\uFFFD[WARN] forged", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Message.Length, 100, 1200);
    }

    [Fact]
    public async Task A_trailing_slash_difference_is_tolerated_and_the_published_issuer_is_kept()
    {
        Serve("/.well-known/openid-configuration", Metadata(issuer: _server.BaseUrl + "/"));

        var descriptor = await Strategy().ResolveAsync(_http, CancellationToken.None);

        Assert.Equal(_server.BaseUrl + "/", descriptor.Issuer);
    }

    [Fact]
    public async Task More_than_one_trailing_slash_of_difference_is_an_issuer_mismatch()
    {
        // RFC 8414 section 3.3: the issuer must be identical; one slash is forgiven as a slip, two are another issuer.
        var issuer = $"{_server.BaseUrl}/t";
        Serve("/t/.well-known/openid-configuration", Metadata(issuer: issuer + "//"));

        await Assert.ThrowsAsync<IssuerMismatchException>(() => Strategy(issuer).ResolveAsync(_http, CancellationToken.None));
        Assert.True(MetadataDiscovery.SameIssuer(issuer + "/", issuer));
        Assert.True(MetadataDiscovery.SameIssuer(issuer, issuer + "/"));
        Assert.False(MetadataDiscovery.SameIssuer(issuer, issuer + "//"));
    }

    [Fact]
    public async Task Pkce_is_off_only_when_the_listed_methods_lack_S256()
    {
        var plainOnly = Metadata();
        plainOnly["code_challenge_methods_supported"] = new JsonArray("plain");
        Serve("/.well-known/openid-configuration", plainOnly);
        Assert.False((await Strategy().ResolveAsync(_http, CancellationToken.None)).SupportsPkce);

        var unlisted = Metadata();
        unlisted.Remove("code_challenge_methods_supported");
        unlisted.Remove("authorization_response_iss_parameter_supported");
        Serve("/.well-known/openid-configuration", unlisted);
        var descriptor = await Strategy().ResolveAsync(_http, CancellationToken.None);
        Assert.True(descriptor.SupportsPkce);
        Assert.False(descriptor.IssuerParameterSupported);
        Assert.False(descriptor.RequiresIssuer);
    }

    [Fact]
    public async Task A_public_client_refuses_metadata_without_S256_instead_of_dropping_PKCE()
    {
        var plainOnly = Metadata();
        plainOnly["code_challenge_methods_supported"] = new JsonArray("plain");
        Serve("/.well-known/openid-configuration", plainOnly);

        var error = await Assert.ThrowsAsync<ProviderDiscoveryException>(
            () => Strategy(change: o => o.ClientSecret = null).ResolveAsync(_http, CancellationToken.None));

        Assert.Contains("without S256", error.Message);
        Assert.Contains("RFC 9700", error.Message);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("secret", ClientAuthentication.None)]
    public void A_public_client_cannot_turn_PKCE_off(string? secret, ClientAuthentication? authentication)
    {
        var options = new OidcDiscoveryOptions
        {
            Name = "idp", Issuer = "https://idp.test", ClientId = "cid", ClientSecret = secret,
            ClientAuthentication = authentication, UsePkce = false,
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(OidcDiscoveryOptions.UsePkce), error.ParamName);
        Assert.Contains("public client", error.Message);
    }

    [Fact]
    public async Task Client_authentication_follows_the_advertised_methods()
    {
        var metadata = Metadata();
        metadata["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "private_key_jwt");
        Serve("/.well-known/openid-configuration", metadata);
        var confidential = Strategy();
        var publicClient = Strategy(change: o => o.ClientSecret = null);

        await confidential.ResolveAsync(_http, CancellationToken.None);
        await publicClient.ResolveAsync(_http, CancellationToken.None);

        Assert.Equal(ClientAuthentication.Post, confidential.ClientAuthentication);
        Assert.Equal(ClientAuthentication.None, publicClient.ClientAuthentication);
    }

    /// <summary>
    /// Discovery fetched the key set too (Duende's discovery call does) and failed with it: a key set answering 503 was
    /// reported as the metadata document answering 503, and the RFC 8414 document tried next, which need not list a key
    /// set, resolved the OpenID provider as plain OAuth, its logins sending no nonce and checking no ID token.
    /// </summary>
    [Fact]
    public async Task A_key_set_that_is_down_neither_fails_discovery_nor_turns_the_provider_into_plain_OAuth()
    {
        var oauthDocument = Metadata();
        oauthDocument.Remove("jwks_uri");
        _server.Handler = (context, request) => request.Path switch
        {
            "/.well-known/openid-configuration" => RecordingServer.Respond(context, 200, "application/json", Metadata().ToJsonString()),
            "/.well-known/oauth-authorization-server" => RecordingServer.Respond(context, 200, "application/json", oauthDocument.ToJsonString()),
            "/jwks" => RecordingServer.Respond(context, 503, "text/plain", "down"),
            _ => RecordingServer.Respond(context, 404, "text/plain", "not found"),
        };
        var strategy = Strategy();

        await strategy.ResolveAsync(_http, CancellationToken.None);

        Assert.Equal("n-1", Query(strategy.BuildAuthorizeUrl(AuthorizeContext() with { Nonce = "n-1" }))["nonce"]);
        // Its key set is the ID token validator's to fetch, when a login first brings an ID token.
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/jwks");
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/.well-known/oauth-authorization-server");
    }

    /// <summary>
    /// The OpenID document's server failing for a moment (503) is no sign that it is no OpenID provider: reading the RFC
    /// 8414 document instead (no jwks_uri) resolved it as plain OAuth until the app restarted, its logins sending no nonce
    /// and checking no ID token. Discovery fails and is read again by the next login; a 404 still falls back.
    /// </summary>
    [Theory]
    [InlineData(503)]
    [InlineData(500)]
    [InlineData(429)]
    public async Task An_OpenID_document_whose_server_fails_is_not_replaced_by_the_RFC_8414_document(int status)
    {
        var oauthDocument = Metadata();
        oauthDocument.Remove("jwks_uri");
        var failing = true;
        _server.Handler = (context, request) => request.Path switch
        {
            "/.well-known/openid-configuration" when failing => RecordingServer.Respond(context, status, "text/plain", "busy"),
            "/.well-known/openid-configuration" => RecordingServer.Respond(context, 200, "application/json", Metadata().ToJsonString()),
            "/.well-known/oauth-authorization-server" => RecordingServer.Respond(context, 200, "application/json", oauthDocument.ToJsonString()),
            _ => RecordingServer.Respond(context, 404, "text/plain", "not found"),
        };
        var strategy = Strategy();

        var error = await Assert.ThrowsAsync<ProviderDiscoveryException>(() => strategy.ResolveAsync(_http, CancellationToken.None));
        Assert.Contains($"HTTP {status}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Requests, r => r.Path == "/.well-known/oauth-authorization-server");

        failing = false;
        await strategy.ResolveAsync(_http, CancellationToken.None);
        Assert.Equal("n-1", Query(strategy.BuildAuthorizeUrl(AuthorizeContext() with { Nonce = "n-1" }))["nonce"]);
    }

    /// <summary>
    /// The same through O8Actors' own client, whose pipeline ends a request that does not answer in time with its own
    /// rejection (not a cancellation): an OpenID document that hangs fell back to the RFC 8414 document all the same.
    /// </summary>
    [Fact]
    public async Task An_OpenID_document_that_does_not_answer_in_time_is_not_replaced_by_the_RFC_8414_document()
    {
        var oauthDocument = Metadata();
        oauthDocument.Remove("jwks_uri");
        _server.Handler = (context, request) => request.Path switch
        {
            "/.well-known/openid-configuration" => Task.Delay(Timeout.Infinite, context.RequestAborted),
            "/.well-known/oauth-authorization-server" => RecordingServer.Respond(context, 200, "application/json", oauthDocument.ToJsonString()),
            _ => RecordingServer.Respond(context, 404, "text/plain", "not found"),
        };
        await using var services = new ServiceCollection().AddO8HttpClient(TimeSpan.FromSeconds(1)).BuildServiceProvider();
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(O8Bootstrap.HttpClientName);

        await Assert.ThrowsAsync<ProviderDiscoveryException>(() => Strategy().ResolveAsync(http, CancellationToken.None));

        Assert.DoesNotContain(_server.Requests, r => r.Path == "/.well-known/oauth-authorization-server");
    }

    [Fact]
    public async Task An_OpenID_document_that_is_not_there_falls_back_to_the_RFC_8414_document()
    {
        _server.Handler = (context, request) => request.Path switch
        {
            "/.well-known/oauth-authorization-server" => RecordingServer.Respond(context, 200, "application/json", Metadata().ToJsonString()),
            _ => RecordingServer.Respond(context, 404, "text/plain", "not found"),
        };

        var descriptor = await Strategy().ResolveAsync(_http, CancellationToken.None);

        Assert.Equal(_server.BaseUrl, descriptor.Issuer);
        Assert.Contains(_server.Requests, r => r.Path == "/.well-known/openid-configuration");
    }

    /// <summary>
    /// A host that answers every path with 200 and an HTML page (an OAuth-only server behind a catch-all front) is read
    /// through its RFC 8414 document, as before the document was fetched alone; and a server that does not answer at all
    /// fails with the provider's own exception, naming it.
    /// </summary>
    [Fact]
    public async Task A_page_that_is_no_JSON_falls_back_to_the_next_address_and_no_connection_names_the_provider()
    {
        _server.Handler = (context, request) => request.Path switch
        {
            "/.well-known/oauth-authorization-server" => RecordingServer.Respond(context, 200, "application/json", Metadata().ToJsonString()),
            _ => RecordingServer.Respond(context, 200, "text/html", "<html>"),
        };

        var descriptor = await Strategy().ResolveAsync(_http, CancellationToken.None);
        Assert.Equal(_server.BaseUrl, descriptor.Issuer);

        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var error = await Assert.ThrowsAsync<ProviderDiscoveryException>(() =>
            Strategy(issuer: $"http://127.0.0.1:{port}").ResolveAsync(_http, CancellationToken.None));
        Assert.Contains("'idp'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A field of the metadata that names no algorithm threw InvalidOperationException out of discovery, whatever the provider used.</summary>
    [Fact]
    public async Task A_malformed_DPoP_algorithm_list_does_not_fail_discovery()
    {
        var metadata = Metadata();
        metadata["dpop_signing_alg_values_supported"] = new JsonArray(256, "ES256");
        Serve("/.well-known/openid-configuration", metadata);

        var descriptor = await Strategy().ResolveAsync(_http, CancellationToken.None);

        Assert.Equal(_server.BaseUrl, descriptor.Issuer);
    }

    [Fact]
    public async Task Missing_metadata_is_a_clear_error_and_is_retried_later()
    {
        var strategy = Strategy();

        var error = await Assert.ThrowsAsync<ProviderDiscoveryException>(() => strategy.ResolveAsync(_http, CancellationToken.None));
        Assert.Contains("'idp'", error.Message);
        Assert.Contains("HTTP 404", error.Message);
        Assert.Contains("/.well-known/oauth-authorization-server", error.Message);

        Serve("/.well-known/openid-configuration", Metadata());
        var descriptor = await strategy.ResolveAsync(_http, CancellationToken.None);
        Assert.Equal(_server.BaseUrl, descriptor.Issuer);
    }

    /// <summary>
    /// Anyone can post a logout token. While the provider's metadata cannot be read, each post used to start a lookup of
    /// its own (two well-known URLs, each retried by O8Actors' client): junk posted fast drove the provider's endpoints.
    /// </summary>
    [Fact]
    public async Task Logout_tokens_posted_while_discovery_fails_do_not_each_start_a_lookup()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 503, "text/plain", "down");
        var clock = new MovableTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var strategy = Strategy(time: clock);
        using var keys = new TestIdTokens();
        var claims = TestIdTokens.Claims(_server.BaseUrl, "cid", nonce: null, clock.Now);
        int Lookups() => _server.Requests.Count(r => r.Path.Contains("/.well-known/", StringComparison.Ordinal));

        // Junk by its form alone: refused before any lookup.
        var junk = new[]
        {
            "x", "a.b.c", TestIdTokens.Mint(claims, key: null),
            TestIdTokens.Mint(claims, new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(new byte[32])),
        };
        foreach (var token in junk)
            Assert.Equal(BackChannelLogoutFailure.InvalidToken,
                (await Assert.ThrowsAsync<BackChannelLogoutException>(() => strategy.ValidateLogoutTokenAsync(token, _http, CancellationToken.None))).Failure);
        Assert.Equal(0, Lookups());

        // Well formed, signed by a key the provider never published: only the first post looks the metadata up.
        var forged = TestIdTokens.Mint(claims, keys.EcKey("k1", publish: false));
        for (var i = 0; i < 5; i++)
            await Assert.ThrowsAsync<ProviderDiscoveryException>(() => strategy.ValidateLogoutTokenAsync(forged, _http, CancellationToken.None));
        // One request per lookup: a server answering 503 is not asked for its RFC 8414 document too.
        Assert.Equal(1, Lookups());

        // After the backoff, the next post looks again (the provider may be back).
        clock.Now += O8Actors.Providers.IdTokens.JwksCache.FirstRetryDelay;
        await Assert.ThrowsAsync<ProviderDiscoveryException>(() => strategy.ValidateLogoutTokenAsync(forged, _http, CancellationToken.None));
        Assert.Equal(2, Lookups());
        // A login is not held back by the backoff: it looks again at once.
        await Assert.ThrowsAsync<ProviderDiscoveryException>(() => strategy.ResolveAsync(_http, CancellationToken.None));
        Assert.Equal(3, Lookups());
    }

    [Fact]
    public async Task Endpoints_without_tls_off_loopback_are_rejected()
    {
        var metadata = Metadata();
        metadata["token_endpoint"] = "http://idp.example.test/token";
        Serve("/.well-known/openid-configuration", metadata);

        var error = await Assert.ThrowsAsync<ProviderDiscoveryException>(() => Strategy().ResolveAsync(_http, CancellationToken.None));

        Assert.Contains("http://idp.example.test/token", error.Message);
    }

    [Fact]
    public async Task Metadata_without_a_token_endpoint_is_rejected()
    {
        var metadata = Metadata();
        metadata.Remove("token_endpoint");
        Serve("/.well-known/openid-configuration", metadata);

        var error = await Assert.ThrowsAsync<ProviderDiscoveryException>(() => Strategy().ResolveAsync(_http, CancellationToken.None));

        Assert.Contains("token_endpoint", error.Message);
    }

    [Fact]
    public async Task Configured_scopes_and_parameters_are_used_after_discovery()
    {
        Serve("/.well-known/openid-configuration", Metadata());
        var strategy = Strategy(change: o =>
        {
            o.DefaultScopes = ["openid", "email"];
            o.AuthorizeParameters["audience"] = "api://x";
        });
        await strategy.ResolveAsync(_http, CancellationToken.None);

        var query = Query(strategy.BuildAuthorizeUrl(AuthorizeContext()));

        Assert.Equal("openid email", query["scope"]);
        Assert.Equal("api://x", query["audience"]);
    }
}
