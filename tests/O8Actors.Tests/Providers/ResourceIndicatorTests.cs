using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A provider's <c>Resource</c> (RFC 8707): sent as <c>resource</c> on the authorize URL, the code exchange and every
/// refresh, exactly as configured; a second one through a login's extra parameters is refused, and so is a resource that
/// is not an absolute URI without a fragment.
/// </summary>
public sealed class ResourceIndicatorTests : IAsyncLifetime
{
    private const string Api = "https://api.corp.example/orders";
    private const string JsonTokens = """{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}""";
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _server.Handler = (context, _) => RecordingServer.Respond(context, 200, "application/json", JsonTokens);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private GenericOAuthStrategy Strategy(string? resource = Api)
    {
        var options = Options(_server.Url("/token"));
        options.Resource = resource is null ? null : new Uri(resource);
        return new GenericOAuthStrategy(options);
    }

    [Fact]
    public void The_authorize_url_names_the_providers_resource_exactly_as_configured()
    {
        var url = Strategy().BuildAuthorizeUrl(AuthorizeContext());

        Assert.Equal(Api, Query(url)["resource"]);
        Assert.DoesNotContain("resource", Query(Strategy(resource: null).BuildAuthorizeUrl(AuthorizeContext())).Keys);
    }

    [Fact]
    public void A_login_cannot_name_a_second_resource_beside_the_providers()
    {
        var context = AuthorizeContext(extra: new Dictionary<string, string> { ["resource"] = "https://other.example/" });

        var error = Assert.Throws<ArgumentException>(() => Strategy().BuildAuthorizeUrl(context));

        Assert.Contains("'resource'", error.Message);
        // Without a provider resource the parameter is the caller's to send, as before.
        Assert.Equal("https://other.example/", Query(Strategy(resource: null).BuildAuthorizeUrl(context))["resource"]);
    }

    [Fact]
    public async Task The_code_exchange_and_every_refresh_ask_for_the_same_resource()
    {
        var strategy = Strategy();

        await strategy.ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);
        await strategy.RefreshAsync(new RefreshContext("rt-1"), _http, CancellationToken.None);

        Assert.Collection(_server.Requests,
            exchange => Assert.Equal(Api, exchange.Form["resource"]),
            refresh =>
            {
                Assert.Equal("refresh_token", refresh.Form["grant_type"]);
                Assert.Equal(Api, refresh.Form["resource"]);
            });
    }

    [Fact]
    public async Task Without_a_resource_no_token_request_names_one()
    {
        await Strategy(resource: null).ExchangeCodeAsync(Exchange(), _http, CancellationToken.None);

        Assert.DoesNotContain("resource", Assert.Single(_server.Requests).Form.Keys);
    }

    [Theory]
    [InlineData("/orders", "absolute")]
    [InlineData("https://api.corp.example/orders#v2", "fragment")]
    public void A_resource_that_cannot_be_an_indicator_is_refused(string resource, string reason)
    {
        var options = Options(new Uri("https://auth.example.test/token"));
        options.Resource = new Uri(resource, UriKind.RelativeOrAbsolute);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(GenericOAuthOptions.Resource), error.ParamName);
        Assert.Contains(reason, error.Message);
        Assert.Contains("RFC 8707", error.Message);
    }
}
