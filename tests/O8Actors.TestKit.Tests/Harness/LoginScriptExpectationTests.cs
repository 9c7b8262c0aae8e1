using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// What a token-endpoint delay is predicted to do: succeed under the exchange timeout (a plain OAuth login does; the
/// documentation asks OpenID scripts to stay well under it, where the key-set wait also fits), fail from it on.
/// </summary>
public sealed class LoginScriptExpectationTests
{
    private static readonly TimeSpan ExchangeTimeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1, LoginOutcomeKind.Succeeded)]
    [InlineData(9.5, LoginOutcomeKind.Succeeded)]
    [InlineData(10, LoginOutcomeKind.Failed)]
    [InlineData(12, LoginOutcomeKind.Failed)]
    public void A_delay_is_predicted_to_succeed_under_the_exchange_timeout_and_fail_from_it_on(double seconds, LoginOutcomeKind expected)
    {
        var script = LoginScript.TokenEndpointFault(TokenFault.Delay(TimeSpan.FromSeconds(seconds)));

        Assert.Equal(expected, script.Expected(ExchangeTimeout));
    }
}
