namespace O8Actors.Providers;

/// <summary>How a client proves its identity at the token endpoint (RFC 6749 section 2.3, RFC 7591 names).</summary>
public enum ClientAuthentication
{
    /// <summary><c>client_secret_basic</c>: HTTP Basic with the form-encoded client id and secret (the RFC 8414 default).</summary>
    Basic = 0,

    /// <summary><c>client_secret_post</c>: <c>client_id</c> and <c>client_secret</c> in the form body.</summary>
    Post = 1,

    /// <summary><c>none</c>: a public client; only <c>client_id</c> is sent and PKCE carries the proof.</summary>
    None = 2,

    /// <summary>
    /// <c>private_key_jwt</c> (RFC 7523 section 2.2, OpenID Connect Core section 9): each request carries a short-lived
    /// JWT signed with the client's private key (the provider's <c>ClientCertificate</c> or
    /// <c>ClientSigningKey</c>); no secret is sent or stored.
    /// </summary>
    PrivateKeyJwt = 3,
}
