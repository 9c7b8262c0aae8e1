namespace O8Actors.Providers;

/// <summary>
/// The <c>aud</c> of a client's assertions under <c>private_key_jwt</c>. Servers differ: RFC 7523bis asks for the
/// authorization server's issuer identifier (an assertion then cannot be replayed at another server), OpenID Connect Core
/// section 9 for the token endpoint's URL, and some servers (Okta) take only the URL of the endpoint the request goes to.
/// </summary>
public enum ClientAssertionAudience
{
    /// <summary>The issuer identifier (the token endpoint's URL when the provider has no issuer).</summary>
    Issuer = 0,

    /// <summary>The token endpoint's URL, on every request (revocation, PAR and device requests too): Microsoft Entra ID's rule.</summary>
    TokenEndpoint = 1,

    /// <summary>The URL of the endpoint each request goes to (token, revocation, pushed authorization, device authorization): Okta's rule.</summary>
    EndpointCalled = 2,
}
