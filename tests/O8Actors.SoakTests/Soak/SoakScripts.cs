using O8Actors.TestKit;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.SoakTests.Soak;

/// <summary>One soak login: its script, whether the caller cancels it, and the one outcome that implies.</summary>
internal sealed record SoakLogin(int Index, LoginScript Script, TimeSpan? CancelAfter, LoginOutcomeKind Expected)
{
    /// <summary>
    /// A fixed, interleaved mix, per 20 logins: 9 approvals, 2 denials, 1 abandonment and 1 silent authorization
    /// server (short deadline), 3 caller cancellations, and one each of token-endpoint 5xx, delay past the exchange
    /// timeout, malformed JSON and dropped connection.
    /// </summary>
    public static SoakLogin For(int i, TimeSpan exchangeTimeout)
    {
        LoginScript script = (i % 20) switch
        {
            < 9 => LoginScript.Approve($"soak-user-{i}"),
            < 11 => LoginScript.Deny($"soak denial {i}", i % 2 == 0 ? "access_denied" : "consent_required"),
            11 => LoginScript.Abandon,
            12 => LoginScript.NeverAnswer,
            < 16 => i % 2 == 0 ? LoginScript.NeverAnswer : LoginScript.Abandon,
            16 => LoginScript.TokenEndpointFault(TokenFault.ServerError(500 + i % 4)),
            17 => LoginScript.TokenEndpointFault(TokenFault.Delay(exchangeTimeout * 2)),
            18 => LoginScript.TokenEndpointFault(TokenFault.MalformedJson()),
            _ => LoginScript.TokenEndpointFault(TokenFault.DropConnection()),
        };
        // Cancelled logins wait on a long deadline, so only the caller can end them; they cancel at varied moments.
        var cancelAfter = i % 20 is >= 13 and < 16 ? TimeSpan.FromMilliseconds(20 + i * 37 % 400) : (TimeSpan?)null;
        return new SoakLogin(i, script, cancelAfter, cancelAfter is null ? script.Expected(exchangeTimeout) : LoginOutcomeKind.Cancelled);
    }
}
