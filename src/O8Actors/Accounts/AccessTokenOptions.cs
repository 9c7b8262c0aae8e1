namespace O8Actors;

/// <summary>How <see cref="IOAuthLogins.GetAccessTokenAsync"/> may get a token when the cached one will not do.</summary>
/// <param name="AllowInteraction">
/// When the refresh token is missing, refused (<c>invalid_grant</c>) or the account has no tokens: run an interactive
/// login (the browser again) instead of throwing <see cref="InteractionRequiredException"/>. One login per account at a
/// time, however many callers wait; it must come back as the same account.
/// </param>
/// <param name="ForceRefresh">Refresh even when the cached access token is still valid.</param>
/// <param name="Login">The interactive login's request (scopes, timeout); null for the defaults.</param>
public sealed record AccessTokenOptions(bool AllowInteraction = false, bool ForceRefresh = false, AuthorizationRequest? Login = null)
{
    /// <summary>Silent only: the cache or a refresh.</summary>
    public static AccessTokenOptions Silent { get; } = new();

    /// <summary>Silent first; the browser when the refresh token no longer works.</summary>
    public static AccessTokenOptions Interactive { get; } = new(AllowInteraction: true);
}
