using System.Text;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// Each preset against a recorded expectation taken from the provider's documentation: the authorize URL, and the
/// token request as a local stand-in for the provider's token endpoint receives it.
/// </summary>
public sealed class ProviderPresetTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json",
            """{"access_token":"at","token_type":"Bearer","expires_in":604800,"refresh_token":"rt","scope":"identify"}""");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<RecordedRequest> ExchangeAgainstStandIn(GenericOAuthOptions preset)
    {
        preset.TokenEndpoint = _server.Url("/token");
        await new GenericOAuthStrategy(preset).ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.StartsWith("application/x-www-form-urlencoded", request.ContentType);
        return request;
    }

    private static string Basic(string id, string secret) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}"));

    // ---- Discord ----

    [Fact]
    public void Discord_authorize_url_matches_the_documentation()
    {
        var url = ProviderPresets.Discord("discord-id", ClientSecret).BuildAuthorizeUrl(AuthorizeContext(scopes: ["identify", "messages.read"]));

        Assert.Equal("https://discord.com/oauth2/authorize", url.GetLeftPart(UriPartial.Path));
        Assert.Equal(new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = "discord-id",
            ["redirect_uri"] = RedirectUri.OriginalString,
            ["scope"] = "identify messages.read",
            ["state"] = State,
            ["code_challenge"] = Challenge,
            ["code_challenge_method"] = "S256",
        }, Query(url));
    }

    [Fact]
    public async Task Discord_descriptor_requires_the_discord_issuer()
    {
        var descriptor = await ProviderPresets.Discord("discord-id", ClientSecret).ResolveAsync(_http, CancellationToken.None);

        Assert.Equal(new ProviderDescriptor("https://discord.com", IssuerParameterSupported: false, SupportsPkce: true), descriptor);
        Assert.False(descriptor.RequiresIssuer);
    }

    [Fact]
    public async Task Discord_token_request_uses_client_secret_basic()
    {
        var request = await ExchangeAgainstStandIn(ProviderPresets.DiscordOptions("discord-id", ClientSecret));

        Assert.Equal(Basic("discord-id", ClientSecret), request.Authorization);
        Assert.Equal(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = Code,
            ["redirect_uri"] = RedirectUri.OriginalString,
            ["code_verifier"] = Verifier,
        }, request.Form);
    }

    [Fact]
    public async Task Discord_without_a_secret_is_a_public_client()
    {
        var request = await ExchangeAgainstStandIn(ProviderPresets.DiscordOptions("discord-id"));

        Assert.Null(request.Authorization);
        Assert.Equal("discord-id", request.Form["client_id"]);
        Assert.False(request.Form.ContainsKey("client_secret"));
    }

    [Fact]
    public async Task Discord_refresh_is_supported()
    {
        var options = ProviderPresets.DiscordOptions("discord-id", ClientSecret);
        options.TokenEndpoint = _server.Url("/token");

        var tokens = await new GenericOAuthStrategy(options).RefreshAsync(new RefreshContext(RefreshToken), _http, CancellationToken.None);

        Assert.Equal("rt", tokens.RefreshToken);
        Assert.Equal("refresh_token", Assert.Single(_server.Requests).Form["grant_type"]);
    }

    /// <summary>
    /// Discord's and Google's revocation endpoints are in their presets (Discord's documentation, Google's discovery
    /// document): without them a sign-out left the grant live at the provider (RevocationOutcome.NotSupported). Each is
    /// posted as RFC 7009 asks, Discord's with the client's authentication.
    /// </summary>
    [Theory]
    [InlineData("discord", ProviderPresets.DiscordRevocationEndpoint)]
    [InlineData("google", ProviderPresets.GoogleRevocationEndpoint)]
    public async Task Sign_out_revokes_at_the_providers_documented_revocation_endpoint(string provider, string endpoint)
    {
        var options = provider == "discord" ? ProviderPresets.DiscordOptions("id", ClientSecret) : ProviderPresets.GoogleOptions("id", ClientSecret);
        Assert.Equal(new Uri(endpoint), options.RevocationEndpoint);
        options.RevocationEndpoint = _server.Url("/revoke");

        Assert.True(await new GenericOAuthStrategy(options).RevokeAsync(new RevocationContext(RefreshToken, "refresh_token"), _http, CancellationToken.None));

        var request = Assert.Single(_server.Requests);
        Assert.Equal(RefreshToken, request.Form["token"]);
        if (provider == "discord") Assert.Equal(Basic("id", ClientSecret), request.Authorization);
    }

    // ---- GitHub ----

    [Fact]
    public void GitHub_authorize_url_matches_the_documentation()
    {
        var url = ProviderPresets.GitHub("gh-id", ClientSecret).BuildAuthorizeUrl(AuthorizeContext(scopes: ["repo", "read:org"]));

        Assert.Equal("https://github.com/login/oauth/authorize", url.GetLeftPart(UriPartial.Path));
        Assert.Equal(new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = "gh-id",
            ["redirect_uri"] = RedirectUri.OriginalString,
            ["scope"] = "repo read:org",
            ["state"] = State,
            ["code_challenge"] = Challenge,
            ["code_challenge_method"] = "S256",
        }, Query(url));
    }

    [Fact]
    public async Task GitHub_token_request_posts_the_secret_and_asks_for_json()
    {
        var request = await ExchangeAgainstStandIn(ProviderPresets.GitHubOptions("gh-id", ClientSecret));

        Assert.Null(request.Authorization);
        Assert.Equal("application/json", request.Accept);
        Assert.Equal(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = Code,
            ["redirect_uri"] = RedirectUri.OriginalString,
            ["code_verifier"] = Verifier,
            ["client_id"] = "gh-id",
            ["client_secret"] = ClientSecret,
        }, request.Form);
    }

    [Fact]
    public void GitHub_with_a_secret_posts_it_and_without_one_is_a_public_client()
    {
        Assert.Equal(ClientAuthentication.Post, ProviderPresets.GitHub("gh-id", ClientSecret).Options.ClientAuthentication);
        var secretless = ProviderPresets.GitHub("gh-id");

        Assert.Equal(ClientAuthentication.None, secretless.Options.ClientAuthentication);
        Assert.Null(secretless.Options.ClientSecret);
        Assert.True(secretless.Descriptor.SupportsPkce);
        Assert.True(secretless.Descriptor.SupportsDeviceAuthorization);
    }

    [Fact]
    public async Task A_GitHub_device_login_without_a_secret_sends_the_client_id_and_no_secret()
    {
        _server.Handler = (context, request) => request.Path == "/device"
            ? RecordingServer.Respond(context, 200, "application/json",
                """{"device_code":"dc-1","user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":899,"interval":5}""")
            : RecordingServer.Respond(context, 200, "application/json", """{"access_token":"gho_at","token_type":"bearer","scope":"read:user"}""");
        var strategy = ProviderPresets.GitHub("gh-id", configure: o =>
        {
            o.DeviceAuthorizationEndpoint = _server.Url("/device");
            o.TokenEndpoint = _server.Url("/token");
        });

        var device = await strategy.RequestDeviceAuthorizationAsync(
            new DeviceAuthorizationContext([], new Dictionary<string, string>()), _http, CancellationToken.None);
        var poll = await strategy.PollDeviceTokenAsync(new DeviceTokenContext(device.DeviceCode), _http, CancellationToken.None);

        Assert.Equal("gho_at", poll.Tokens?.AccessToken);
        Assert.Collection(_server.Requests,
            code =>
            {
                Assert.Equal("/device", code.Path);
                Assert.Equal(new Dictionary<string, string> { ["client_id"] = "gh-id", ["scope"] = "read:user" }, code.Form);
                Assert.Null(code.Authorization);
            },
            token =>
            {
                Assert.Equal("/token", token.Path);
                Assert.Equal(new Dictionary<string, string>
                {
                    ["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code",
                    ["device_code"] = "dc-1",
                    ["client_id"] = "gh-id",
                }, token.Form);
                Assert.Null(token.Authorization);
            });
    }

    [Fact]
    public async Task A_GitHub_browser_login_without_a_secret_fails_at_the_code_exchange_with_GitHubs_refusal()
    {
        // What GitHub answers a code exchange that carries no client secret (with 200, as it answers every error).
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json",
            """{"error":"incorrect_client_credentials","error_description":"The client_id and/or client_secret passed are incorrect."}""");
        var options = ProviderPresets.GitHubOptions("gh-id");
        options.TokenEndpoint = _server.Url("/token");

        var refused = await Assert.ThrowsAsync<TokenExchangeException>(
            () => new GenericOAuthStrategy(options).ExchangeCodeAsync(Exchange(), _http, CancellationToken.None));

        Assert.Equal("incorrect_client_credentials", refused.ProviderError);
        Assert.Contains("'github'", refused.Message);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("gh-id", request.Form["client_id"]);
        Assert.False(request.Form.ContainsKey("client_secret"));
        AssertNoSecrets(refused);
    }

    [Fact]
    public async Task GitHub_descriptor_has_no_issuer_check()
    {
        var descriptor = await ProviderPresets.GitHub("gh-id", ClientSecret).ResolveAsync(_http, CancellationToken.None);

        Assert.False(descriptor.RequiresIssuer);
        Assert.True(descriptor.SupportsPkce);
    }

    [Fact]
    public async Task GitHub_oauth_app_answer_without_refresh_token_cannot_refresh()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/x-www-form-urlencoded",
            "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer");
        var options = ProviderPresets.GitHubOptions("gh-id", ClientSecret);
        options.TokenEndpoint = _server.Url("/token");

        var tokens = await new GenericOAuthStrategy(options).ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.Equal("gho_16C7e42F292c6912E7710c838347Ae178B4a", tokens.AccessToken);
        Assert.Equal("repo,gist", tokens.Scope);
        Assert.False(tokens.CanRefresh);
    }

    // ---- Google ----

    /// <summary>
    /// Google's token endpoint refuses every grant without the client secret (<c>client_secret is missing</c>), desktop
    /// clients and PKCE included: the preset refuses to build without one, instead of a login that fails after the user
    /// approved it. A secret given by the configure callback counts.
    /// </summary>
    [Fact]
    public void Google_without_a_client_secret_is_refused_when_built()
    {
        var refused = Assert.Throws<ArgumentException>(() => ProviderPresets.Google("g-id"));
        Assert.Throws<ArgumentException>(() => ProviderPresets.Google("g-id", ""));
        var configured = ProviderPresets.Google("g-id", configure: o => o.ClientSecret = ClientSecret);

        Assert.Equal("ClientSecret", refused.ParamName);
        Assert.Contains("client secret", refused.Message, StringComparison.Ordinal);
        Assert.Equal(ClientAuthentication.Post, configured.Options.ClientAuthentication);
    }

    [Fact]
    public void Google_authorize_url_asks_for_offline_access()
    {
        var url = ProviderPresets.Google("g-id.apps.googleusercontent.com", ClientSecret).BuildAuthorizeUrl(AuthorizeContext());

        Assert.Equal("https://accounts.google.com/o/oauth2/v2/auth", url.GetLeftPart(UriPartial.Path));
        Assert.Equal(new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = "g-id.apps.googleusercontent.com",
            ["redirect_uri"] = RedirectUri.OriginalString,
            ["scope"] = "openid email profile",
            ["state"] = State,
            ["code_challenge"] = Challenge,
            ["code_challenge_method"] = "S256",
            ["access_type"] = "offline",
            ["prompt"] = "consent",
        }, Query(url));
    }

    [Fact]
    public async Task Google_token_request_uses_client_secret_post()
    {
        var request = await ExchangeAgainstStandIn(ProviderPresets.GoogleOptions("g-id", ClientSecret));

        Assert.Null(request.Authorization);
        Assert.Equal("g-id", request.Form["client_id"]);
        Assert.Equal(ClientSecret, request.Form["client_secret"]);
        Assert.Equal(Verifier, request.Form["code_verifier"]);
        Assert.Equal("authorization_code", request.Form["grant_type"]);
        Assert.Equal(RedirectUri.OriginalString, request.Form["redirect_uri"]);
    }

    [Fact]
    public async Task Google_descriptor_knows_the_issuer_without_requiring_iss()
    {
        var descriptor = await ProviderPresets.Google("g-id", ClientSecret).ResolveAsync(_http, CancellationToken.None);

        Assert.Equal("https://accounts.google.com", descriptor.Issuer);
        Assert.False(descriptor.RequiresIssuer);
    }

    [Fact]
    public void Google_prompt_can_be_changed_per_login()
    {
        var url = ProviderPresets.Google("g-id", ClientSecret).BuildAuthorizeUrl(
            AuthorizeContext(extra: new Dictionary<string, string> { ["prompt"] = "select_account" }));

        Assert.Equal("select_account", Query(url)["prompt"]);
    }

    // ---- Microsoft ----

    [Fact]
    public void Microsoft_authorize_url_uses_the_tenant_and_offline_access()
    {
        var url = ProviderPresets.Microsoft("", "ms-id").BuildAuthorizeUrl(AuthorizeContext());

        Assert.Equal("https://login.microsoftonline.com/common/oauth2/v2.0/authorize", url.GetLeftPart(UriPartial.Path));
        Assert.Equal(new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = "ms-id",
            ["redirect_uri"] = RedirectUri.OriginalString,
            ["scope"] = "openid profile offline_access",
            ["state"] = State,
            ["code_challenge"] = Challenge,
            ["code_challenge_method"] = "S256",
        }, Query(url));
    }

    [Fact]
    public async Task Microsoft_signs_out_of_the_tenants_session_at_its_logout_endpoint()
    {
        var strategy = ProviderPresets.Microsoft("contoso.onmicrosoft.com", "ms-id");

        var url = await strategy.BuildEndSessionUrlAsync(new EndSessionContext("s", RedirectUri, "id.token.hint"), _http, CancellationToken.None);

        Assert.Equal("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/logout", url!.GetLeftPart(UriPartial.Path));
        Assert.Equal(new Dictionary<string, string>
        {
            ["client_id"] = "ms-id",
            ["id_token_hint"] = "id.token.hint",
            ["post_logout_redirect_uri"] = RedirectUri.OriginalString,
            ["state"] = "s",
        }, Query(url));
    }

    [Fact]
    public void The_OpenID_Connect_presets_read_UserInfo_where_their_discovery_documents_say_and_the_OAuth_only_ones_have_none()
    {
        Assert.Equal(new Uri("https://openidconnect.googleapis.com/v1/userinfo"), ProviderPresets.Google("g-id", ClientSecret).Options.UserInfoEndpoint);
        Assert.Equal(new Uri("https://graph.microsoft.com/oidc/userinfo"), ProviderPresets.Microsoft("common", "ms-id").Options.UserInfoEndpoint);
        Assert.Null(ProviderPresets.GitHub("gh-id", "gh-secret").Options.UserInfoEndpoint);
        Assert.Null(ProviderPresets.Discord("d-id").Options.UserInfoEndpoint);
    }

    [Fact]
    public async Task Microsoft_issuer_is_known_only_for_a_tenant_id()
    {
        const string tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

        var specific = ProviderPresets.MicrosoftOptions(tenantId, "ms-id");
        var common = ProviderPresets.MicrosoftOptions("common", "ms-id");
        var organizations = ProviderPresets.MicrosoftOptions("organizations", "ms-id");

        Assert.Equal($"https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token", specific.TokenEndpoint!.AbsoluteUri);
        Assert.Equal($"https://login.microsoftonline.com/{tenantId}/v2.0", specific.Issuer);
        Assert.Null(common.Issuer);
        Assert.Null(organizations.Issuer);
        var descriptor = await new GenericOAuthStrategy(specific).ResolveAsync(_http, CancellationToken.None);
        Assert.False(descriptor.RequiresIssuer);
    }

    [Fact]
    public async Task Microsoft_public_client_sends_no_secret_and_a_confidential_one_posts_it()
    {
        var request = await ExchangeAgainstStandIn(ProviderPresets.MicrosoftOptions("contoso.onmicrosoft.com", "ms-id"));
        Assert.Null(request.Authorization);
        Assert.Equal("ms-id", request.Form["client_id"]);
        Assert.False(request.Form.ContainsKey("client_secret"));
        Assert.Equal(Verifier, request.Form["code_verifier"]);

        var confidential = ProviderPresets.MicrosoftOptions("common", "ms-id", ClientSecret);
        Assert.Equal(ClientAuthentication.Post, confidential.ClientAuthentication);
    }

    [Fact]
    public void Microsoft_rejects_a_tenant_that_would_change_the_path()
    {
        var error = Assert.Throws<ArgumentException>(() => ProviderPresets.Microsoft("common/../x", "ms-id"));

        Assert.Contains("tenant", error.Message);
    }

    // ---- all ----

    [Fact]
    public void Presets_can_be_adjusted_through_configure()
    {
        var strategy = ProviderPresets.Discord("discord-id", ClientSecret, o => o.DefaultScopes = ["guilds"]);

        Assert.Equal("guilds", Query(strategy.BuildAuthorizeUrl(AuthorizeContext()))["scope"]);
        Assert.Equal("discord", strategy.Name);
    }

    [Fact]
    public void Only_the_Microsoft_preset_takes_a_signing_key_for_private_key_jwt()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        void UseKey(GenericOAuthOptions o)
        {
            o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
            o.ClientSigningKey = key;
        }

        var entra = ProviderPresets.Microsoft("organizations", "ms-id", configure: UseKey);
        Assert.Equal(ClientAuthentication.PrivateKeyJwt, entra.Options.ClientAuthentication);
        foreach (var (build, provider) in new (Func<GenericOAuthStrategy>, string)[]
                 {
                     (() => ProviderPresets.Discord("discord-id", configure: UseKey), "Discord"),
                     (() => ProviderPresets.GitHub("github-id", configure: UseKey), "GitHub"),
                     (() => ProviderPresets.Google("google-id", configure: UseKey), "Google"),
                 })
        {
            var error = Assert.Throws<ArgumentException>(build);
            Assert.Contains($"{provider} does not accept private_key_jwt", error.Message);
        }
    }

    [Theory]
    [InlineData("https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0", true)]
    [InlineData("https://login.microsoftonline.us/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0", true)]
    [InlineData("https://login.chinacloudapi.cn/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0", true)]
    [InlineData("https://sts.windows.net/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/", true)]
    [InlineData("https://contoso.ciamlogin.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0", true)]
    [InlineData("https://accounts.google.com", false)]
    [InlineData("https://login.microsoftonline.com.evil.example/t/v2.0", false)]
    [InlineData("https://ciamlogin.com.evil.example/t/v2.0", false)]
    [InlineData("http://login.microsoftonline.com/t/v2.0", false)]
    public void Entra_in_every_cloud_takes_client_assertions_for_its_token_endpoint_only(string issuer, bool entra) =>
        Assert.Equal(entra, ProviderPresets.TakesAssertionsForTheTokenEndpointOnly(issuer));
}
