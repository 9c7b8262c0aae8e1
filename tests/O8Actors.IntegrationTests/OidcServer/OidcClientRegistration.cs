using System.Text.Json.Serialization;

namespace O8Actors.IntegrationTests.OidcServer;

/// <summary>
/// One client of the test provider, in the JSON shape oidc-provider takes (RFC 7591 metadata names).
/// </summary>
/// <param name="ClientId">The client id.</param>
/// <param name="ClientSecret">The client secret (never printed by <see cref="ToString"/>).</param>
/// <param name="RedirectUris">Exact redirect URIs, for example <c>https://localhost:41539/</c>.</param>
/// <param name="TokenEndpointAuthMethod"><c>client_secret_basic</c> (default) or <c>client_secret_post</c>.</param>
public sealed record OidcClientRegistration(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("client_secret")] string ClientSecret,
    [property: JsonPropertyName("redirect_uris")] IReadOnlyList<string> RedirectUris,
    [property: JsonPropertyName("token_endpoint_auth_method")] string TokenEndpointAuthMethod = "client_secret_basic")
{
    /// <summary>Always a confidential web client: oidc-provider refuses https loopback redirects for native clients.</summary>
    [JsonPropertyName("application_type")]
    public string ApplicationType => "web";

    /// <summary>Code flow plus refresh tokens, and the device grant (RFC 8628).</summary>
    [JsonPropertyName("grant_types")]
    public IReadOnlyList<string> GrantTypes => ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"];

    /// <summary>Only the authorization code response type (no implicit, RFC 9700).</summary>
    [JsonPropertyName("response_types")]
    public IReadOnlyList<string> ResponseTypes => ["code"];

    /// <summary>Whether the provider binds this client's tokens with DPoP and refuses requests without a proof (RFC 9449 section 5.2).</summary>
    [JsonPropertyName("dpop_bound_access_tokens")]
    public bool DpopBoundAccessTokens { get; init; }

    /// <summary>
    /// Where the provider may send the browser back after a sign-out (OpenID Connect RP-Initiated Logout): the redirect
    /// URIs, since O8Actors' post-logout redirect URI is the provider's redirect URI.
    /// </summary>
    [JsonPropertyName("post_logout_redirect_uris")]
    public IReadOnlyList<string> PostLogoutRedirectUris => RedirectUris;

    /// <summary>The single redirect URI, for the common one-listener case.</summary>
    [JsonIgnore]
    public Uri RedirectUri => new(RedirectUris[0]);

    /// <inheritdoc />
    public override string ToString() =>
        $"OidcClientRegistration {{ ClientId = {ClientId}, RedirectUris = {string.Join(' ', RedirectUris)}, TokenEndpointAuthMethod = {TokenEndpointAuthMethod} }}";
}
