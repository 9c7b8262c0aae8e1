namespace O8Actors.Logout;

/// <summary>
/// What a <see cref="LogoutTokenReplayGuard"/> remembers of one accepted logout token: immutable, so the guard can hand
/// what it holds to another guard (<see cref="LogoutTokenReplayGuard.Export"/>, <see cref="LogoutTokenReplayGuard.Merge"/>)
/// without sharing anything it still changes.
/// </summary>
/// <param name="JwtId">The token's <c>jti</c>: an identifier, not a secret.</param>
/// <param name="KeepUntil">Until when a replay of it must be refused (<see cref="LogoutTokenReplayGuard.KeepUntil"/>).</param>
/// <param name="Completed">Whether its logout was carried out: a post of it is a replay.</param>
/// <param name="Attempt">The attempt that holds it while its logout is under way (the one that may renew or release it).</param>
/// <param name="LeaseEnds">Until when that attempt holds it, unless renewed; a later post may take it over after that.</param>
internal sealed record LogoutTokenHold(string JwtId, DateTimeOffset KeepUntil, bool Completed, string Attempt, DateTimeOffset LeaseEnds);
