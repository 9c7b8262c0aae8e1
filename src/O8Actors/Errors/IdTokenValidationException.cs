namespace O8Actors;

/// <summary>
/// The provider's ID token failed OpenID Connect validation (OpenID Connect Core 1.0 section 3.1.3.7): its signature,
/// algorithm, issuer, audience, lifetime or <c>nonce</c> was wrong. The login returned no tokens.
/// </summary>
/// <remarks>The message says which check failed; it never contains the token or any part of it.</remarks>
public sealed class IdTokenValidationException(string message, Exception? innerException = null)
    : OAuthFlowException(message, innerException);
