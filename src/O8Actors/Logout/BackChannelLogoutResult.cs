namespace O8Actors;

/// <summary>What a back-channel logout did (<see cref="IOAuthLogins.HandleBackChannelLogoutAsync"/>).</summary>
/// <param name="Provider">The provider that sent it.</param>
/// <param name="Token">The validated logout token.</param>
/// <param name="SignedOut">
/// The accounts signed out, each with what the provider did with its tokens (they are revoked and forgotten as by
/// <see cref="IOAuthLogins.SignOutAsync(OAuthAccount, System.Threading.CancellationToken)"/>). Empty when none held
/// tokens of the session that ended: a valid request, answered 200 all the same.
/// </param>
/// <remarks>An app that keeps sessions of its own (a cookie per user) ends the ones of these accounts.</remarks>
public sealed record BackChannelLogoutResult(string Provider, LogoutToken Token, IReadOnlyList<SignOutResult> SignedOut);
