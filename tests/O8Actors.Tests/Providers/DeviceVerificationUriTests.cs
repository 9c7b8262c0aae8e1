using System.Text.Json.Nodes;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// The verification URI a device login shows the user (and draws as a QR code) follows the rule of every endpoint:
/// https, plain http only on a loopback host. Its host need not be the provider's. A real server and the real strategy.
/// </summary>
public sealed class DeviceVerificationUriTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private RecordingServer _server = null!;
    private string _verificationUri = "";
    private string? _completeUri;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _server.Handler = (context, _) =>
        {
            var body = new JsonObject
            {
                ["device_code"] = "device-code-value",
                ["user_code"] = "BCDF-GHJK",
                ["verification_uri"] = _verificationUri,
                ["expires_in"] = 900,
                ["interval"] = 5,
            };
            if (_completeUri is not null) body["verification_uri_complete"] = _completeUri;
            return RecordingServer.Respond(context, 200, "application/json", body.ToJsonString());
        };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private Task<DeviceAuthorization> RequestAsync()
    {
        var options = Options(_server.Url("/token"));
        options.DeviceAuthorizationEndpoint = _server.Url("/device");
        return new GenericOAuthStrategy(options).RequestDeviceAuthorizationAsync(
            new DeviceAuthorizationContext([], new Dictionary<string, string>()), _http, CancellationToken.None);
    }

    [Theory]
    [InlineData("http://login.example.test/device")]
    [InlineData("http://192.168.1.10/device")]
    [InlineData("ftp://login.example.test/device")]
    public async Task A_verification_uri_that_is_not_https_off_loopback_fails_the_device_login(string uri)
    {
        _verificationUri = uri;

        var error = await Assert.ThrowsAsync<TokenExchangeException>(RequestAsync);

        Assert.Contains("verification_uri", error.Message);
        Assert.Contains("https", error.Message);
    }

    [Theory]
    [InlineData("https://www.google.com/device")]   // another host than the provider's: fine
    [InlineData("http://127.0.0.1:8080/device")]    // a local sandbox
    [InlineData("http://localhost/device")]
    public async Task An_https_or_loopback_verification_uri_is_shown_whatever_its_host(string uri)
    {
        _verificationUri = uri;

        Assert.Equal(new Uri(uri), (await RequestAsync()).VerificationUri);
    }

    [Fact]
    public async Task A_plain_http_complete_uri_off_loopback_is_left_out_and_the_user_types_the_code()
    {
        _verificationUri = "https://login.example.test/device";
        _completeUri = "http://login.example.test/device?user_code=BCDF-GHJK";

        var authorization = await RequestAsync();

        Assert.Null(authorization.VerificationUriComplete);
        Assert.Equal("BCDF-GHJK", authorization.UserCode);
    }
}
