using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// What a token-endpoint delay is predicted to do: succeed only well under the exchange timeout, since a token request's
/// budget can be shorter than the timeout and an OpenID login stops waiting for the key set at 0.9 of it.
/// </summary>
public sealed class LoginScriptExpectationTests
{
    private static readonly TimeSpan ExchangeTimeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1, LoginOutcomeKind.Succeeded)]
    [InlineData(7.9, LoginOutcomeKind.Succeeded)]
    [InlineData(8, LoginOutcomeKind.Failed)]
    [InlineData(9.5, LoginOutcomeKind.Failed)]
    [InlineData(10, LoginOutcomeKind.Failed)]
    public void A_delay_is_predicted_to_succeed_only_under_the_safe_share_of_the_exchange_timeout(double seconds, LoginOutcomeKind expected)
    {
        var script = LoginScript.TokenEndpointFault(TokenFault.Delay(TimeSpan.FromSeconds(seconds)));

        Assert.Equal(expected, script.Expected(ExchangeTimeout));
    }
}
