namespace O8Actors.Cluster;

/// <summary>
/// A <see cref="LoginOutcome"/> in a shape Akka.Remote's JSON serializer carries whole: the outcome records themselves
/// do, except the validated ID token claims (<see cref="System.Security.Claims.Claim"/> has no constructor a serializer
/// can use and points back to its identity), which travel here in a compact form (<see cref="WireClaimList"/>) and are
/// rebuilt on arrival.
/// </summary>
/// <param name="Outcome">The outcome; a success without its <see cref="TokenSet.IdTokenClaims"/> and <see cref="TokenSet.DpopKey"/>.</param>
/// <param name="Claims">The success's ID token claims, when it had them.</param>
/// <param name="DpopKey">The success's DPoP key as a private JWK, when its tokens are bound (a secret, like the tokens
/// beside it: the remoting between nodes runs over TLS).</param>
/// <param name="Waiting">What a timeout was still waiting for (an internal property of the outcome, which the serializer
/// does not write), so the caller's node names it in its exception.</param>
internal sealed record WireOutcome(LoginOutcome Outcome, WireIdTokenClaims? Claims, string? DpopKey = null, TimedOutWaiting Waiting = TimedOutWaiting.Redirect)
{
    /// <summary>The outcome's kind.</summary>
    public LoginOutcomeKind Kind => Outcome.Kind;

    /// <summary>The wire form of <paramref name="outcome"/>.</summary>
    public static WireOutcome From(LoginOutcome outcome) => outcome is LoginSucceeded success
        ? new WireOutcome(success with { Tokens = success.Tokens with { IdTokenClaims = null, DpopKey = null } },
            success.Tokens.IdTokenClaims is { } claims ? WireIdTokenClaims.From(claims) : null, success.Tokens.DpopKey?.ToJwk())
        : new WireOutcome(outcome, null, Waiting: outcome is LoginTimedOut timedOut ? timedOut.Waiting : TimedOutWaiting.Redirect);

    /// <summary>
    /// The outcome as it ended, claims and key restored; a failure (<see cref="LoginFailure.Internal"/>) when the claims
    /// or the DPoP key arrived malformed, so the receiving gateway ends this one login instead of throwing (a throw
    /// restarts the gateway, and its restart cancels every other login pending on its node).
    /// </summary>
    public LoginOutcome ToOutcome()
    {
        if (Outcome is LoginTimedOut timedOut) return timedOut with { Waiting = Waiting };
        if (Outcome is not LoginSucceeded success || (Claims is null && DpopKey is null)) return Outcome;
        IdTokenClaims? claims = null;
        if (Claims is not null && !Claims.TryToClaims(out claims))
            return new LoginFailed(Outcome.LoginId, LoginFailure.Internal,
                "The login's ID token claims arrived malformed from the node that ran it (nodes of different O8Actors versions?).");
        Dpop.DpopKey? key = null;
        if (DpopKey is not null && !TryReadKey(DpopKey, out key))
            // The key's text is never repeated: it is a private key.
            return new LoginFailed(Outcome.LoginId, LoginFailure.Internal,
                "The login's DPoP key arrived malformed from the node that ran it (nodes of different O8Actors versions?).");
        return success with { Tokens = success.Tokens with { IdTokenClaims = claims, DpopKey = key } };
    }

    private static bool TryReadKey(string jwk, out Dpop.DpopKey? key)
    {
        try
        {
            key = Dpop.DpopKey.FromJwk(jwk);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            key = null;
            return false;
        }
    }

    /// <summary>
    /// An upper bound on the bytes a serializer writes for this outcome's strings and claims (<see cref="WireSize"/>);
    /// the type and property names, dates and numbers outside the claims are not counted (<see cref="OutcomeFrame"/> adds them).
    /// </summary>
    public long SizeBound() => WireSize.Of(Strings()) + WireSize.Of(DpopKey) + (Claims?.SizeBound() ?? 0);

    private IEnumerable<string?> Strings() => Outcome switch
    {
        LoginSucceeded s =>
        [
            s.LoginId, s.Tokens.AccessToken, s.Tokens.TokenType, s.Tokens.RefreshToken, s.Tokens.Scope, s.Tokens.IdToken, s.Tokens.Raw,
            // The account's Id is computed, but the JSON serializer writes it too: the key again, percent-encoded (up to
            // 12 bytes for one character of the key).
            s.Account?.Provider, s.Account?.Key, s.Account?.Id,
        ],
        LoginDenied d => [d.LoginId, d.Error, d.ErrorDescription],
        LoginFailed f => [f.LoginId, f.Reason, f.ProviderError],
        _ => [Outcome.LoginId],
    };

    /// <inheritdoc />
    public override string ToString() => $"WireOutcome {{ Kind = {Kind} }}";
}
