using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// A caller of <see cref="IOAuthLogins"/> while O8Actors starts: past the wait for a start that never begins (60 s) it is
/// told to add WithOAuthLogins only when nothing started; a start that has begun, however long it takes, is waited for,
/// and its own error is the caller's.
/// </summary>
public sealed class SlowStartTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PastTheLimit = TimeSpan.FromSeconds(61);

    [Fact]
    public async Task A_call_during_a_start_slower_than_the_limit_waits_for_it_and_is_answered()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var registering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        using var host = HostedO8.Build(HostedO8.LoopbackSettings(), o => o.AddProvider(_ =>
        {
            // A provider whose construction takes its time (a key from a vault): the start has begun and is not done.
            registering.TrySetResult();
            release.Wait(Wait, ct);
            return ProviderPresets.Discord("discord-client");
        }), "o8-slow-start", services => services.Replace(ServiceDescriptor.Singleton(new O8Runtime { Time = time })));
        var start = Task.Run(() => host.StartAsync(ct), ct);
        await registering.Task.WaitAsync(Wait, ct);

        var status = host.Services.GetRequiredService<IOAuthLogins>().GetStatusAsync(ct);
        time.Advance(PastTheLimit);
        release.Set();
        await start.WaitAsync(Wait, ct);

        Assert.True((await status.WaitAsync(Wait, ct)).ListenerBound);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task A_call_during_a_start_that_fails_after_the_limit_gets_the_starts_error()
    {
        var time = new FakeTimeProvider();
        var runtime = new O8Runtime { Time = time };
        runtime.Begin();

        var call = runtime.GetAsync(TestContext.Current.CancellationToken);
        time.Advance(PastTheLimit);
        var reason = new ListenerStartException("The redirect listener did not start.");
        runtime.Fail(reason);

        Assert.Same(reason, await Assert.ThrowsAsync<ListenerStartException>(() => call.WaitAsync(Wait, TestContext.Current.CancellationToken)));
    }

    /// <summary>
    /// A login whose token is already cancelled ends as <see cref="LoginCancelled"/>, nothing started, as the
    /// orchestrator's own RunAsync answers; while the host still started, the wait for it threw instead.
    /// </summary>
    [Fact]
    public async Task A_login_already_cancelled_while_the_host_starts_ends_as_cancelled_as_after_the_start()
    {
        var runtime = new O8Runtime { Time = new FakeTimeProvider() };
        runtime.Begin();
        IOAuthLogins logins = new HostedOAuthLogins(runtime,
            new O8Actors.Binding.BrowserBindingVerifier(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider()),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<HostedOAuthLogins>.Instance);

        var outcome = await logins.RunAsync("github", cancellationToken: new CancellationToken(canceled: true)).WaitAsync(Wait, TestContext.Current.CancellationToken);

        Assert.IsType<LoginCancelled>(outcome);
    }

    /// <summary>
    /// No start began: either WithOAuthLogins is missing, or the host's start is held before the actor system's hosted
    /// service (the app's own hosted service waiting for O8Actors in its StartAsync). The message names both; it spoke of
    /// the first only, and sent an app whose setup was right looking for a line it already had.
    /// </summary>
    [Fact]
    public async Task A_call_when_no_start_began_within_the_limit_is_told_to_add_WithOAuthLogins()
    {
        var time = new FakeTimeProvider();
        var runtime = new O8Runtime { Time = time };

        var call = runtime.GetAsync(TestContext.Current.CancellationToken);
        time.Advance(PastTheLimit);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => call.WaitAsync(Wait, TestContext.Current.CancellationToken));
        Assert.Contains("WithOAuthLogins()", error.Message);
        Assert.Contains("a hosted service that waits for O8Actors in its StartAsync", error.Message);
    }
}
