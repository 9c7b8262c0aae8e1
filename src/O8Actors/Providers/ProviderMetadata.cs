namespace O8Actors.Providers;

/// <summary>What O8Actors uses from a provider's discovery metadata.</summary>
/// <param name="Issuer">The metadata's <c>issuer</c>, verbatim: the value RFC 9207 callbacks must carry.</param>
/// <param name="AuthorizationEndpoint">The <c>authorization_endpoint</c>.</param>
/// <param name="TokenEndpoint">The <c>token_endpoint</c>.</param>
/// <param name="SupportsS256">False only when <c>code_challenge_methods_supported</c> is present and lacks <c>S256</c>.</param>
/// <param name="IssuerParameterSupported"><c>authorization_response_iss_parameter_supported</c>.</param>
/// <param name="TokenEndpointAuthMethods"><c>token_endpoint_auth_methods_supported</c>; empty when absent.</param>
/// <param name="Source">The URL the document came from.</param>
/// <param name="JwksUri">The <c>jwks_uri</c>; null when absent (a plain OAuth server: no ID tokens to validate).</param>
/// <param name="DeviceAuthorizationEndpoint">The <c>device_authorization_endpoint</c> (RFC 8628 section 4); null when absent.</param>
/// <param name="PushedAuthorizationRequestEndpoint">The <c>pushed_authorization_request_endpoint</c> (RFC 9126 section 5); null when absent.</param>
/// <param name="RequirePushedAuthorizationRequests"><c>require_pushed_authorization_requests</c>.</param>
/// <param name="RevocationEndpoint">The <c>revocation_endpoint</c> (RFC 7009, RFC 8414 section 2); null when absent.</param>
internal sealed record ProviderMetadata(
    string Issuer,
    Uri AuthorizationEndpoint,
    Uri TokenEndpoint,
    bool SupportsS256,
    bool IssuerParameterSupported,
    IReadOnlyList<string> TokenEndpointAuthMethods,
    Uri Source,
    Uri? JwksUri = null,
    Uri? RevocationEndpoint = null,
    Uri? DeviceAuthorizationEndpoint = null,
    Uri? PushedAuthorizationRequestEndpoint = null,
    bool RequirePushedAuthorizationRequests = false)
{
    /// <summary>The DPoP proof algorithms the server lists (<c>dpop_signing_alg_values_supported</c>, RFC 9449 section 5.1); null when it lists none.</summary>
    public IReadOnlyList<string>? DpopSigningAlgorithms { get; init; }

    /// <summary>The <c>end_session_endpoint</c> (OpenID Connect RP-Initiated Logout 1.0, section 2.1); null when absent.</summary>
    public Uri? EndSessionEndpoint { get; init; }

    /// <summary>The <c>userinfo_endpoint</c> (OpenID Connect Discovery 1.0, section 3); null when absent.</summary>
    public Uri? UserInfoEndpoint { get; init; }
}
