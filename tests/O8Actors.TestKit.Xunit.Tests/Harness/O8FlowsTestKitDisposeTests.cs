using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// xUnit v3 disposes an <see cref="O8FlowsTestKit"/> in one call: when stopping the harness fails (it rethrows a part's
/// failure), the test kit's actor system is still terminated.
/// </summary>
public sealed class O8FlowsTestKitDisposeTests
{
    [Fact]
    public async Task The_actor_system_terminates_even_when_stopping_the_harness_fails()
    {
        var kit = new KitWhoseHarnessFailsToStop();
        await kit.InitializeAsync();
        var system = kit.System;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () => await kit.DisposeAsync());

        Assert.Equal(FailsToDisposeHttpClientFactory.Message, failure.Message);
        await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    private sealed class KitWhoseHarnessFailsToStop() : O8FlowsTestKit(new O8TestHarnessOptions
    {
        ConfigureLogins = setup => setup.ConfigureServices = services => services.AddSingleton<IHttpClientFactory>(_ => new FailsToDisposeHttpClientFactory()),
    })
    {
        public ActorSystem System => Sys;
    }
}
