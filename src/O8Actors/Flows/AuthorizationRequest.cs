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
    /// <summary>
    /// The key of the account this login signs in, for providers without a validated ID token (GitHub, Discord): the
    /// app's own stable id for the person (a user id it looked up, or simply <c>"default"</c> in a single-user CLI). When
    /// the login returns a validated ID token its <c>sub</c> is the key and this is ignored. With neither, the login's
    /// tokens are returned but not remembered as an account.
    /// </summary>
    public string? AccountKey { get; init; }

    /// <summary>
    /// How the user signs in: <see cref="LoginMethod.Browser"/>, <see cref="LoginMethod.Device"/> (RFC 8628: a code to
    /// enter on any device, for machines without a browser) or <see cref="LoginMethod.Auto"/> (the device grant when no
    /// browser can be opened here and the provider supports it). Null (the default): the configured
    /// <c>o8.login.method</c> (<c>O8:Login:Method</c>), which is <see cref="LoginMethod.Browser"/> unless the app changes it.
    /// </summary>
    public LoginMethod? Method { get; init; }

    /// <summary>A request with the provider's default scopes and the configured timeout.</summary>
    public static AuthorizationRequest Default { get; } = new();

    /// <summary>The scopes, never null.</summary>
    public IReadOnlyList<string> ScopeList => Scopes ?? [];

    /// <summary>The extra parameters, never null.</summary>
    public IReadOnlyDictionary<string, string> Parameters =>
        ExtraParameters ?? new Dictionary<string, string>();
}
