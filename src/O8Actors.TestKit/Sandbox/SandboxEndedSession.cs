namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// A logout the sandbox carried out at <c>/end-session</c> (OpenID Connect RP-Initiated Logout 1.0), as listed in
/// <see cref="SandboxAuthorizationServer.EndedSessions"/>. No token is kept: the hint itself is never recorded.
/// </summary>
/// <param name="ClientId">The client that asked: its <c>client_id</c>, or the <c>aud</c> of its <c>id_token_hint</c>; <c>null</c> when it sent neither.</param>
/// <param name="Subject">The <c>sub</c> of the <c>id_token_hint</c>; <c>null</c> without a hint.</param>
/// <param name="PostLogoutRedirectUri">Where the user agent was sent back to (without the appended <c>state</c>); <c>null</c> when it was shown the signed-out page.</param>
public sealed record SandboxEndedSession(string? ClientId, string? Subject, Uri? PostLogoutRedirectUri);
