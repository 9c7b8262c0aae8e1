namespace O8Actors;

/// <summary>Why <see cref="IOAuthLogins.GetUserInfoAsync"/> gave no claims.</summary>
public enum UserInfoFailure
{
    /// <summary>
    /// The provider has no UserInfo endpoint here, or the account signed in without an ID token (GitHub, Discord), so
    /// there is no <c>sub</c> to check the answer against. Nothing was sent.
    /// </summary>
    NotSupported,

    /// <summary>The endpoint refused the access token (401), also after a renewed one was tried.</summary>
    Unauthorized,

    /// <summary>
    /// The endpoint refused the request for another reason (403, for example <c>insufficient_scope</c>), or refused a
    /// DPoP-bound token's proof (401 <c>use_dpop_nonce</c> after the nonce retry, or <c>invalid_dpop_proof</c>): no new
    /// token would pass, so none was asked for.
    /// </summary>
    Refused,

    /// <summary>
    /// The answer is about another user than the account's ID token (OpenID Connect Core 1.0 section 5.3.4): a token
    /// substitution or a mixed-up endpoint. Its claims were not used.
    /// </summary>
    SubjectMismatch,

    /// <summary>The answer is not a JSON object with a <c>sub</c> claim (or is signed or encrypted, which O8Actors does not read, or too large).</summary>
    InvalidResponse,

    /// <summary>The endpoint could not be reached, timed out, or answered with a server error.</summary>
    Failed,
}

/// <summary>
/// The provider's UserInfo endpoint (OpenID Connect Core 1.0 section 5.3) gave no claims O8Actors could trust. The
/// message names the provider and the reason, never the access token.
/// </summary>
/// <param name="failure">Why no claims came back.</param>
/// <param name="message">What happened, for a person.</param>
/// <param name="providerError">The endpoint's <c>error</c> code (RFC 6750 section 3.1, for example <c>invalid_token</c>), if it sent one.</param>
/// <param name="innerException">The transport error, if any.</param>
public sealed class UserInfoException(UserInfoFailure failure, string message, string? providerError = null, Exception? innerException = null)
    : OAuthFlowException(message, innerException)
{
    /// <summary>
    /// Why no claims came back: the account cannot be asked about (<see cref="UserInfoFailure.NotSupported"/>), the endpoint
    /// refused the token or the request, answered for another user, answered what cannot be read, or could not be reached.
    /// </summary>
    public UserInfoFailure Failure { get; } = failure;

    /// <summary>The endpoint's <c>error</c> code, if it sent one.</summary>
    public string? ProviderError { get; } = providerError;
}
