using O8Actors.Tests.Flows;

namespace O8Actors.Tests.EndToEnd;

/// <summary>
/// The login limits through the public API (standalone, real listener on plain http): past them <see cref="IOAuthLogins.AuthorizeAsync"/>
/// throws <see cref="TooManyPendingLoginsException"/> naming the limit and <see cref="IOAuthLogins.RunAsync"/> returns the
/// matching <see cref="LoginFailed"/>, at once; a login of another partition still starts.
/// </summary>
public sealed class PendingLoginLimitEndToEndTests
{
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Past_the_limits_a_login_fails_at_once_with_a_typed_exception_and_a_login_failure()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Port = 0;
            setup.Options.Listener.Scheme = "http";
            setup.Options.Login.MaxPending = 2;
            setup.Options.Login.MaxPendingPerPartition = 1;
            setup.Browser = new RecordingBrowser(); // opens nothing: the logins wait
            setup.Providers.Add(server.Strategy("p"));
        });
        using var cancel = new CancellationTokenSource();
        var waiting = new AuthorizationRequest(Timeout: TimeSpan.FromMinutes(1), Partition: "user-1");

        var first = logins.RunAsync("p", waiting, cancel.Token);
        var samePartition = await Assert.ThrowsAsync<TooManyPendingLoginsException>(() => logins.AuthorizeAsync("p", waiting).WaitAsync(AtOnce));
        Assert.Equal("o8.login.max-pending-per-partition", samePartition.Setting);
        Assert.Equal(1, samePartition.Limit);
        Assert.Contains("o8.login.max-pending-per-partition (1)", samePartition.Message);
        Assert.IsAssignableFrom<OAuthFlowException>(samePartition);

        var second = logins.RunAsync("p", waiting with { Partition = "user-2" }, cancel.Token);
        var global = await Assert.ThrowsAsync<TooManyPendingLoginsException>(() =>
            logins.AuthorizeAsync("p", waiting with { Partition = "user-3" }).WaitAsync(AtOnce));
        Assert.Equal("o8.login.max-pending", global.Setting);
        Assert.Equal(2, global.Limit);
        var outcome = Assert.IsType<LoginFailed>(await logins.RunAsync("p", waiting with { Partition = null }).WaitAsync(AtOnce));
        Assert.Equal(LoginFailure.TooManyPendingLogins, outcome.Failure);

        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        await cancel.CancelAsync();
        Assert.IsType<LoginCancelled>(await first.WaitAsync(AtOnce));
        Assert.IsType<LoginCancelled>(await second.WaitAsync(AtOnce));
    }
}
