using Microsoft.Extensions.DependencyInjection;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// A part of the harness that throws when released (here the orchestrator, through an HTTP client factory whose
/// disposal fails) does not keep the parts after it, such as the sandbox, from being released.
/// </summary>
public sealed class HarnessDisposeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_sandbox_is_stopped_even_when_the_orchestrator_fails_to_release()
    {
        var o8 = await O8TestHarness.StartAsync(o => o.ConfigureLogins = setup =>
            setup.ConfigureServices = services => services.AddSingleton<IHttpClientFactory>(_ => new FailsToDisposeHttpClientFactory()));
        var authorize = o8.Sandbox.AuthorizationEndpoint;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => o8.DisposeAsync().AsTask().WaitAsync(Wait));

        Assert.Equal(FailsToDisposeHttpClientFactory.Message, failure.Message);
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(authorize).WaitAsync(Wait));
    }
}
