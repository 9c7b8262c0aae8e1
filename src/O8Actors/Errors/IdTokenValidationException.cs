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
    : OAuthFlowException(message, innerException);
