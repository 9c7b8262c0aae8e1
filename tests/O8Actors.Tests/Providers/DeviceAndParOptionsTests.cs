using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>Where device logins (RFC 8628) and pushed authorization requests (RFC 9126) take their endpoints from, and what is refused.</summary>
public sealed class DeviceAndParOptionsTests
{
    private static GenericOAuthOptions Valid() => ProviderTestData.Options(new Uri("https://auth.example.test/token"));

    [Fact]
    public void The_presets_carry_their_providers_device_authorization_endpoints()
    {
        Assert.Equal(new Uri("https://github.com/login/device/code"), ProviderPresets.GitHubOptions("id", "secret").DeviceAuthorizationEndpoint);
        Assert.Equal(new Uri("https://oauth2.googleapis.com/device/code"), ProviderPresets.GoogleOptions("id").DeviceAuthorizationEndpoint);
        Assert.Equal(new Uri("https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"),
            ProviderPresets.MicrosoftOptions("organizations", "id").DeviceAuthorizationEndpoint);
        Assert.True(ProviderPresets.GitHub("id", "secret").Descriptor.SupportsDeviceAuthorization);
        Assert.Null(ProviderPresets.DiscordOptions("id").DeviceAuthorizationEndpoint);
        Assert.False(ProviderPresets.Discord("id").Descriptor.SupportsDeviceAuthorization);
    }

    [Fact]
    public void A_device_or_PAR_endpoint_must_be_https_or_loopback_http()
    {
        var device = Valid();
        device.DeviceAuthorizationEndpoint = new Uri("http://idp.example.test/device");
        Assert.Contains("DeviceAuthorizationEndpoint", Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(device)).Message);

        var par = Valid();
        par.PushedAuthorizationRequestEndpoint = new Uri("http://idp.example.test/par");
        Assert.Contains("PushedAuthorizationRequestEndpoint", Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(par)).Message);
    }

    [Fact]
    public void Requiring_PAR_needs_its_endpoint()
    {
        var options = Valid();
        options.RequirePushedAuthorizationRequests = true;

        Assert.Contains("PushedAuthorizationRequestEndpoint", Assert.Throws<ArgumentException>(() => new GenericOAuthStrategy(options)).Message);
        options.PushedAuthorizationRequestEndpoint = new Uri("https://auth.example.test/par");
        Assert.True(new GenericOAuthStrategy(options).PushesAuthorizationRequests);
    }

    [Fact]
    public async Task A_strategy_without_a_device_endpoint_says_so_and_never_sends_anything()
    {
        var strategy = new GenericOAuthStrategy(Valid());
        using var http = new HttpClient();

        var error = await Assert.ThrowsAsync<NotSupportedException>(() =>
            strategy.RequestDeviceAuthorizationAsync(new DeviceAuthorizationContext([], new Dictionary<string, string>()), http, CancellationToken.None));
        Assert.Contains("device authorization grant", error.Message);
        await Assert.ThrowsAsync<NotSupportedException>(() => strategy.PollDeviceTokenAsync(new DeviceTokenContext("x"), http, CancellationToken.None));
    }
}
