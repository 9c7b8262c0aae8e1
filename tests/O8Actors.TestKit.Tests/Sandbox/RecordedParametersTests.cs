using System.Collections.Concurrent;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The parameters the sandbox hands to a test (<see cref="AuthorizeRequestInfo.Parameters"/> of a pushed request,
/// <see cref="DeviceRequestInfo.Parameters"/>) are documented to hold no secret: a <c>private_key_jwt</c> client's
/// assertion, sent with the push or the device request, is not among them.
/// </summary>
public sealed class RecordedParametersTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly string[] Credentials = ["client_secret", "client_assertion", "client_assertion_type"];

    [Fact]
    public async Task A_pushed_request_is_recorded_without_the_clients_assertion()
    {
        var seen = new ConcurrentQueue<AuthorizeRequestInfo>();
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.ClientAuthentication = ClientAuthMethod.PrivateKeyJwt;
            o.ConfigureSandbox = sandbox =>
            {
                sandbox.PushedAuthorization = SandboxPushedAuthorization.Required;
                var decide = sandbox.Decide;
                sandbox.Decide = request =>
                {
                    seen.Enqueue(request);
                    return decide(request);
                };
            };
        });

        var login = await o8.RunAsync(LoginScript.Approve("alice")).WaitAsync(Wait);

        Assert.IsType<LoginSucceeded>(login.Outcome);
        var parameters = Assert.Single(seen).Parameters;
        Assert.Equal(o8.Client.ClientId, parameters["client_id"]);
        Assert.DoesNotContain(parameters.Keys, Credentials.Contains);
    }

    [Fact]
    public async Task A_device_request_is_recorded_without_the_clients_assertion()
    {
        var seen = new ConcurrentQueue<DeviceRequestInfo>();
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            o.ClientAuthentication = ClientAuthMethod.PrivateKeyJwt;
            o.ConfigureSandbox = sandbox =>
            {
                sandbox.DevicePollInterval = TimeSpan.FromSeconds(1);
                var users = sandbox.DeviceUsers;
                sandbox.DeviceUsers = request =>
                {
                    seen.Enqueue(request);
                    return users(request);
                };
            };
        });

        var outcome = await o8.Logins.RunAsync(o8.ProviderName, new AuthorizationRequest(
            ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "alice" }) { Method = LoginMethod.Device }).WaitAsync(Wait);

        Assert.IsType<LoginSucceeded>(outcome);
        Assert.DoesNotContain(Assert.Single(seen).Parameters.Keys, Credentials.Contains);
    }
}
