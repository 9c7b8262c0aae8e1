namespace O8Actors;

/// <summary>Why an account needs the user again.</summary>
public enum InteractionReason
{
    /// <summary>No tokens are stored for the account (never signed in here, or signed out).</summary>
    NoAccount,

    /// <summary>The access token expired and no refresh token was issued.</summary>
    NoRefreshToken,

    /// <summary>The provider refused the refresh token (<c>invalid_grant</c>: revoked, expired or replayed).</summary>
    RefreshRefused,

    /// <summary>
    /// The interactive login signed in a different account, or, for an account known by its ID token's subject, brought no
    /// ID token to tell who signed in.
    /// </summary>
    AccountMismatch,

    /// <summary>
    /// The provider binds its tokens with DPoP (<c>UseDpop</c>), but no DPoP key is stored with the account's tokens (they
    /// were stored before DPoP was turned on, or by a token store that drops <see cref="TokenSet.DpopKey"/>): the refresh
    /// token is not sent unbound, and the account signs in again to get bound tokens.
    /// </summary>
    NoDpopKey,
}

/// <summary>
/// The account's tokens cannot be renewed silently: sign in again (call
/// <see cref="IOAuthLogins.GetAccessTokenAsync"/> with <see cref="AccessTokenOptions.AllowInteraction"/>, or
/// <see cref="IOAuthLogins.AuthorizeAsync"/>). The name is MSAL's, so that users recognise it.
/// </summary>
public sealed class InteractionRequiredException(OAuthAccount account, InteractionReason reason, string message, Exception? innerException = null)
    : OAuthFlowException(message, innerException)
{
    /// <summary>The account.</summary>
    public OAuthAccount Account { get; } = account;

    /// <summary>
    /// Why the tokens cannot be renewed silently: none are stored, the provider issued no refresh token or refused it, the
    /// interactive login signed in another account, or a DPoP provider's tokens were stored without their key.
    /// </summary>
    public InteractionReason Reason { get; } = reason;
}
