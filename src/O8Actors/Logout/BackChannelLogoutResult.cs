namespace O8Actors;

/// <summary>What a back-channel logout did (<see cref="IOAuthLogins.HandleBackChannelLogoutAsync"/>).</summary>
/// <param name="Provider">The provider that sent it.</param>
/// <param name="Token">The validated logout token.</param>
/// <param name="SignedOut">
/// The accounts signed out, each with what the provider did with its tokens (they are revoked and forgotten as by
/// <see cref="IOAuthLogins.SignOutAsync(OAuthAccount, System.Threading.CancellationToken)"/>). Empty when none held
/// tokens of the session that ended: a valid request, answered 200 all the same.
/// </param>
/// <remarks>
/// An app that keeps sessions of its own (a cookie per user) ends the ones the <see cref="Token"/> names (the session of
/// its <see cref="LogoutToken.SessionId"/>, or when it names none every session of its <see cref="LogoutToken.Subject"/>),
/// not only those of <see cref="SignedOut"/>:
/// an app session can outlive the tokens O8Actors held for it (a restart that emptied an in-memory store, a sign-in of
/// another session since), and then nothing is signed out here though the user logged out at the provider.
/// </remarks>
public sealed record BackChannelLogoutResult(string Provider, LogoutToken Token, IReadOnlyList<SignOutResult> SignedOut);
