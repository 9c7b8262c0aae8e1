using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// The orchestrator disposed while a login's code is at a slow token endpoint (within the exchange timeout): disposing
/// waits for the answer and revokes its tokens. It gave up after a fixed 10 s, the system stopped, and the grant stayed
/// live at the provider with no one holding it.
/// </summary>
public sealed class DisposeDuringExchangeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Disposing_while_a_slow_token_endpoint_answers_revokes_the_tokens_it_brings()
    {
        await using var o8 = await O8TestHarness.StartAsync(o => o.ExchangeTimeout = TimeSpan.FromSeconds(20));
        var login = o8.RunAsync(LoginScript.TokenEndpointFault(TokenFault.Delay(TimeSpan.FromSeconds(11))));
        await o8.Events.WaitForAsync<CallbackReceivedEvent>(timeout: Wait);

        await o8.Logins.DisposeAsync().AsTask().WaitAsync(Wait);

        Assert.Equal(LoginOutcomeKind.Cancelled, (await login.WaitAsync(Wait)).Outcome.Kind);
        Assert.Equal(1, o8.Sandbox.Counters.TokensIssued);
        Assert.True(o8.Sandbox.Counters.Revocations >= 1, $"revocations: {o8.Sandbox.Counters.Revocations}");
    }
}
