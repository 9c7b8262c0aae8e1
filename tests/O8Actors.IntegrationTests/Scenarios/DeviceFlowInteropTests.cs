using O8Actors.IntegrationTests.Browser;

namespace O8Actors.IntegrationTests.Scenarios;

/// <summary>
/// Device logins (RFC 8628) against oidc-provider's device flow: O8Actors discovers <c>device_authorization_endpoint</c>,
/// shows the code and polls; Chromium, as the user on another device, types the code on the verification page and
/// approves, or aborts.
/// </summary>
public sealed class DeviceFlowInteropTests(FlowsFixture fixture) : IClassFixture<FlowsFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    /// <summary>Starts a device login and returns it with the code it showed.</summary>
    private async Task<(Task<LoginOutcome> Login, DeviceCodeIssuedEvent Code)> StartAsync(string user)
    {
        var issued = new TaskCompletionSource<DeviceCodeIssuedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = fixture.Flows.Events.Subscribe(new CodeObserver(issued));
        var request = FlowsFixture.Request(user) with { Method = LoginMethod.Device, Timeout = null };
        var login = fixture.Flows.RunAsync(FlowsFixture.ProviderName, request);
        var code = await issued.Task.WaitAsync(Wait);
        return (login, code);
    }

    [Fact]
    public async Task Chromium_types_the_user_code_and_approves_and_the_login_gets_validated_tokens()
    {
        var (login, code) = await StartAsync("device-alice");
        Assert.Equal(new Uri(fixture.Provider.Issuer, "/device"), code.VerificationUri);
        Assert.Contains("user_code=", code.VerificationUriComplete!.Query);

        var page = await ChromiumDeviceUser.EnterCodeAsync(fixture.Chromium, code.VerificationUri, code.UserCode, approve: true, "device-alice", Wait);

        Assert.Contains("Sign-in Success", page);
        var succeeded = Assert.IsType<LoginSucceeded>(await login.WaitAsync(Wait));
        Assert.Equal("device-alice", succeeded.Tokens.IdTokenClaims?.Subject);   // an ID token, validated against the provider's keys
        Assert.True(await fixture.Provider.IsActiveAsync(fixture.Client, succeeded.Tokens.AccessToken));
        Assert.NotNull(succeeded.Tokens.RefreshToken);
    }

    [Fact]
    public async Task Chromium_aborts_and_the_login_ends_as_denied()
    {
        var (login, code) = await StartAsync("device-bob");

        var page = await ChromiumDeviceUser.EnterCodeAsync(fixture.Chromium, code.VerificationUri, code.UserCode, approve: false, "device-bob", Wait);

        Assert.Contains("interrupted", page);
        var denied = Assert.IsType<LoginDenied>(await login.WaitAsync(Wait));
        Assert.Equal("access_denied", denied.Error);
    }

    private sealed class CodeObserver(TaskCompletionSource<DeviceCodeIssuedEvent> issued) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value)
        {
            if (value is DeviceCodeIssuedEvent code) issued.TrySetResult(code);
        }

        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }
}
