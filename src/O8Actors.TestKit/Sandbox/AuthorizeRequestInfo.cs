namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// A validated authorize request, as the test's decision function sees it. Contains no secrets
/// (the PKCE challenge is public by design), so it is safe to log.
/// </summary>
/// <param name="ClientId">The client.</param>
/// <param name="RedirectUri">The redirect URI (exactly one of the client's registered ones).</param>
/// <param name="State">The client's <c>state</c>.</param>
/// <param name="Scope">Requested scopes, space-separated; empty when none were asked.</param>
/// <param name="CodeChallenge">The S256 PKCE challenge, or <c>null</c> when PKCE is off and none was sent.</param>
/// <param name="Nonce">The OpenID Connect <c>nonce</c>, if any.</param>
/// <param name="LoginHint">The <c>login_hint</c>, if any: the simplest handle for choosing a login's fate.</param>
/// <param name="Parameters">Every query parameter, including custom ones.</param>
public sealed record AuthorizeRequestInfo(
    string ClientId,
    string RedirectUri,
    string State,
    string Scope,
    string? CodeChallenge,
    string? Nonce,
    string? LoginHint,
    IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>The requested scopes as a list.</summary>
    public IReadOnlyList<string> Scopes => Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Whether <c>openid</c> was requested (then the token response carries an <c>id_token</c>).</summary>
    public bool IsOpenId => Scopes.Contains("openid", StringComparer.Ordinal);

    /// <summary>A parameter's value, or <c>null</c>.</summary>
    public string? Get(string name) => Parameters.TryGetValue(name, out var value) ? value : null;
}
