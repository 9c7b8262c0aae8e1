namespace O8Actors;

/// <summary>
/// The provider's ID token failed OpenID Connect validation (OpenID Connect Core 1.0 section 3.1.3.7): its signature,
/// algorithm, issuer, audience, lifetime or <c>nonce</c> was wrong. The login returned no tokens.
/// </summary>
/// <remarks>
/// The message says which check failed, in parentheses: <c>(algorithm)</c>, <c>(signature)</c>, <c>(issuer)</c>,
/// <c>(audience)</c>, <c>(expired)</c>, <c>(issued-at)</c>, <c>(nonce)</c>, <c>(malformed)</c>, <c>(invalid)</c>, or <c>(keys)</c> when the
/// provider's key set could not be fetched. It never contains the token or any part of it.
/// </remarks>
public sealed class IdTokenValidationException(string message, Exception? innerException = null)
    : OAuthFlowException(message, innerException)
{
    /// <summary>
    /// The tokens the token endpoint issued with the refused ID token, for the provider actor to revoke (RFC 7009): live
    /// at the provider, nobody may use them. Taken off before the exception travels further (<see cref="WithoutIssued"/>).
    /// </summary>
    internal TokenSet? Issued { get; init; }

    /// <summary>
    /// The provider's key set could not be had (its endpoint failed, hung or served no key set), so the ID token was
    /// neither accepted nor refused on its own merits. A refresh then keeps its tokens without that ID token.
    /// </summary>
    internal bool KeysUnavailable { get; init; }

    /// <summary>
    /// The ID token was refused only because this machine's clock and its time claims disagree (<c>exp</c> passed,
    /// <c>nbf</c> not reached, <c>iat</c> in the future, beyond the clock skew): its signature, issuer and audience held. A
    /// refresh then keeps its tokens without that ID token, as when the keys are unavailable: the answer came from the
    /// token endpoint itself, and refusing it would revoke what the refresh brought (with some providers, the grant).
    /// </summary>
    internal bool ClockRelated { get; init; }

    /// <summary>A failure thrown before, now carrying <paramref name="issued"/> (the tokens that came with the refused ID token).</summary>
    internal IdTokenValidationException Carrying(TokenSet issued) =>
        new(Message, InnerException) { Issued = issued, KeysUnavailable = KeysUnavailable, ClockRelated = ClockRelated };

    /// <summary>This failure as a caller may see it: without the issued tokens.</summary>
    internal IdTokenValidationException WithoutIssued() =>
        Issued is null ? this : new(Message, InnerException) { KeysUnavailable = KeysUnavailable, ClockRelated = ClockRelated };
}
