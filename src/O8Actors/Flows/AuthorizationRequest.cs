namespace O8Actors;

/// <summary>
/// What one login asks of a provider: scopes, extra authorize parameters and its deadline.
/// </summary>
/// <param name="Scopes">Scopes to request; empty means the provider's default scopes.</param>
/// <param name="Timeout">How long to wait for the browser to come back; <c>null</c> uses <c>o8.login.timeout</c>.</param>
/// <param name="ExtraParameters">Extra authorize-request parameters (for example <c>prompt</c> or <c>login_hint</c>).</param>
/// <param name="Partition">Server mode: who the login is for (the app's user id, or the client's address for anonymous
/// callers). At most <c>o8.login.max-pending-per-partition</c> logins of one partition run at once; <c>null</c> is not counted.</param>
public sealed record AuthorizationRequest(
    IReadOnlyList<string>? Scopes = null,
    TimeSpan? Timeout = null,
    IReadOnlyDictionary<string, string>? ExtraParameters = null,
    string? Partition = null)
{
    /// <summary>A request with the provider's default scopes and the configured timeout.</summary>
    public static AuthorizationRequest Default { get; } = new();

    /// <summary>The scopes, never null.</summary>
    public IReadOnlyList<string> ScopeList => Scopes ?? [];

    /// <summary>The extra parameters, never null.</summary>
    public IReadOnlyDictionary<string, string> Parameters =>
        ExtraParameters ?? new Dictionary<string, string>();
}
