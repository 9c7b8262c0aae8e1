using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// A subscriber to the hosted <see cref="IOAuthLogins.Events"/> that comes before the host has started is attached once
/// O8Actors runs, or told why it did not start, as every call made before the start is. Before, a failed start left it
/// without a word: an app awaiting its first event waited forever.
/// </summary>
public sealed class EarlyEventSubscriberTests
{
    private sealed class Observer(Action<Exception> onError) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value)
        {
        }

        public void OnError(Exception error) => onError(error);

        public void OnCompleted()
        {
        }
    }

    [Fact]
    public async Task A_subscriber_that_came_before_a_start_that_failed_is_told_the_starts_error()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(HostedO8.LoopbackSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // A shutdown timeout the actor system's phases cannot hold, set where it cannot reach them: the start fails.
        builder.Services.AddOAuthLogins(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        builder.Services.AddAkka("o8-early-subscriber", a => a.WithOAuthLogins());
        using var host = builder.Build();
        var logins = host.Services.GetRequiredService<IOAuthLogins>();
        var told = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = logins.Events.Subscribe(new Observer(e => told.TrySetResult(e)));

        await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(ct));

        var error = await told.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        // The same error a call made before the start gets.
        var call = await Assert.ThrowsAnyAsync<Exception>(() => logins.GetStatusAsync(ct));
        Assert.Equal(call.Message, error.Message);
        await host.StopAsync(ct);
    }
}
