using System.Security.Cryptography;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Microsoft.IdentityModel.JsonWebTokens;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// How a provider answers a device login's request for a code when it cannot or must not send it: each refusal says
/// why, sends nothing it should not, and tells an Auto login whether the browser could still serve.
/// </summary>
public sealed class DeviceRequestRefusalTests : TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private RecordingServer _server = null!;

    public async Task InitializeAsync() => _server = await RecordingServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<object> RequestAsync(ProviderStrategy strategy, IReadOnlyDictionary<string, string>? extras = null)
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait);
        var login = CreateTestProbe();
        login.Send(registry, new RequestDeviceCode(strategy.Name, "login-1", [], extras ?? new Dictionary<string, string>()));
        return login.ReceiveOne(Wait)!;
    }

    [Fact]
    public async Task A_provider_that_could_not_be_resolved_does_not_send_an_Auto_login_to_a_browser_that_cannot_serve_it()
    {
        // An Auto login asks for a device code only where no browser opens: a passing discovery failure (a 503) is not
        // "no device grant here", and turning the login into a browser login left it waiting out its whole timeout.
        var failed = Assert.IsType<DeviceCodeRefused>(await RequestAsync(new UnresolvableStrategy())).Failure;

        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.Contains("could not be resolved", failed.Reason);
        Assert.False(failed.BrowserMayServe);
    }

    [Theory]
    [InlineData("redirect_uri", "https://evil.example.test/cb")]
    [InlineData("state", "chosen-by-the-app")]
    [InlineData("scope", "openid")]
    [InlineData("client_id", "another-client")]
    [InlineData("client_secret", "a-secret-in-the-wrong-place")]
    [InlineData("request_uri", "urn:example:request")]
    [InlineData("Client_Secret", "a-secret-in-the-wrong-place")] // any casing
    public async Task A_reserved_extra_parameter_fails_the_device_login_naming_it_and_nothing_is_sent(string name, string value)
    {
        var failed = Assert.IsType<DeviceCodeRefused>(await RequestAsync(EveryEndpointOn(_server), new Dictionary<string, string> { [name] = value })).Failure;

        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.Contains($"'{name}'", failed.Reason);
        Assert.DoesNotContain(value, failed.Reason);
        Assert.False(failed.BrowserMayServe);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_resource_beside_the_providers_own_is_refused_with_the_browser_logins_reason()
    {
        var options = Options(_server.Url("/token"));
        options.DeviceAuthorizationEndpoint = _server.Url("/device");
        options.Resource = new Uri("https://api.example.test/");

        var failed = Assert.IsType<DeviceCodeRefused>(await RequestAsync(new GenericOAuthStrategy(options),
            new Dictionary<string, string> { ["resource"] = "https://other.example.test/" })).Failure;

        Assert.Equal(LoginFailure.ProviderUnavailable, failed.Failure);
        Assert.StartsWith(AuthorizeUrlBuilder.ResourceConflict, failed.Reason);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_client_assertion_of_a_provider_configured_with_an_empty_issuer_is_for_the_token_endpoint()
    {
        // Configuration binds "Issuer": "" as an empty string; everywhere else that is no issuer, and an assertion with
        // aud "" is refused by every server (invalid_client).
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json",
            """{"access_token":"at-1","token_type":"Bearer"}""");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = Options(_server.Url("/token"), ClientAuthentication.PrivateKeyJwt);
        options.ClientSigningKey = key;
        options.Issuer = "";

        await new GenericOAuthStrategy(options).ExchangeCodeAsync(Exchange(), new HttpClient(), CancellationToken.None);

        var assertion = new JsonWebToken(Assert.Single(_server.Requests).Form["client_assertion"]);
        Assert.Equal([_server.Url("/token").AbsoluteUri], assertion.Audiences);
    }

    /// <summary>
    /// Entra ID documents the token endpoint as the only audience of a client assertion; the Microsoft preset for a tenant
    /// id knows the issuer, and its assertions were addressed to it: the code exchange failed after the user approved.
    /// </summary>
    [Fact]
    public async Task The_Microsoft_presets_client_assertion_is_for_its_token_endpoint_though_its_issuer_is_known()
    {
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json",
            """{"access_token":"at-1","token_type":"Bearer"}""");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entra = ProviderPresets.Microsoft("8eaef023-2b34-4da1-9baa-8bc8c9d6a490", "ms-id", configure: o =>
        {
            o.ClientAuthentication = ClientAuthentication.PrivateKeyJwt;
            o.ClientSigningKey = key;
            o.TokenEndpoint = _server.Url("/token");
        });
        Assert.NotNull(entra.Options.Issuer);

        await entra.ExchangeCodeAsync(Exchange(), new HttpClient(), CancellationToken.None);

        var assertion = new JsonWebToken(Assert.Single(_server.Requests).Form["client_assertion"]);
        Assert.Equal([_server.Url("/token").AbsoluteUri], assertion.Audiences);
    }

    /// <summary>
    /// The same for Entra ID reached through discovery rather than the preset: known by its issuer's authority. Its
    /// endpoints are answered in-process (no test reaches the internet), as Entra's discovery document lists them.
    /// </summary>
    [Fact]
    public async Task A_discovered_Entra_issuers_client_assertion_is_for_its_token_endpoint()
    {
        const string tenant = "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490";
        var entra = new EntraAnswers(tenant);
        using var http = new HttpClient(entra);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strategy = new OidcDiscoveryStrategy(new OidcDiscoveryOptions
        {
            Name = "entra", Issuer = tenant + "/v2.0", ClientId = "ms-id",
            ClientAuthentication = ClientAuthentication.PrivateKeyJwt, ClientSigningKey = key,
        });

        await strategy.ResolveAsync(http, CancellationToken.None);
        await strategy.ExchangeCodeAsync(Exchange() with { Nonce = null }, http, CancellationToken.None);

        Assert.Equal([tenant + "/oauth2/v2.0/token"], new JsonWebToken(entra.Assertion).Audiences);
    }

    /// <summary>Entra's discovery document and token endpoint, as far as a code exchange reads them.</summary>
    private sealed class EntraAnswers(string tenant) : HttpMessageHandler
    {
        public string Assertion { get; private set; } = "";

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Get && request.RequestUri!.AbsoluteUri == tenant + "/v2.0/.well-known/openid-configuration")
                return Json($$"""{"issuer":"{{tenant}}/v2.0","authorization_endpoint":"{{tenant}}/oauth2/v2.0/authorize","token_endpoint":"{{tenant}}/oauth2/v2.0/token","token_endpoint_auth_methods_supported":["client_secret_post","private_key_jwt"]}""");
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsoluteUri == tenant + "/oauth2/v2.0/token")
            {
                var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(await request.Content!.ReadAsStringAsync(cancellationToken));
                Assertion = form["client_assertion"].ToString();
                return Json("""{"access_token":"at-1","token_type":"Bearer"}""");
            }
            return new HttpResponseMessage(System.Net.HttpStatusCode.NotFound);
        }

        private static HttpResponseMessage Json(string body) =>
            new(System.Net.HttpStatusCode.OK) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
    }

    /// <summary>An app's strategy whose discovery fails, as an OpenID Connect provider answering 503 makes it.</summary>
    private sealed class UnresolvableStrategy : ProviderStrategy
    {
        public override string Name => "p";

        public override Task<ProviderDescriptor> ResolveAsync(HttpClient http, CancellationToken cancellationToken) =>
            Task.FromException<ProviderDescriptor>(new HttpRequestException("The metadata endpoint answered HTTP 503."));

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new("https://login.example.test/authorize");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            Task.FromResult(new TokenSet("at", "Bearer"));
    }
}
