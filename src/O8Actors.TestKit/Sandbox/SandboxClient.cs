using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace O8Actors.TestKit.Sandbox;

/// <summary>How a client authenticates at the token endpoint (RFC 6749 §2.3, RFC 8414 names).</summary>
public enum ClientAuthMethod
{
    /// <summary><c>client_secret_basic</c>: HTTP Basic with the form-url-encoded id and secret.</summary>
    Basic,

    /// <summary><c>client_secret_post</c>: <c>client_id</c> and <c>client_secret</c> in the form body.</summary>
    Post,

    /// <summary><c>none</c>: a public client sends only <c>client_id</c> (PKCE protects the code).</summary>
    None,

    /// <summary>
    /// <c>private_key_jwt</c> (RFC 7523): a JWT signed with the key of the client's registered
    /// <see cref="SandboxClient.Certificate"/> or its <see cref="SandboxClient.PublicKey"/> (RS256 or ES256), with <c>iss</c> and <c>sub</c> the client id, <c>aud</c> the
    /// issuer or the token endpoint, an unexpired <c>exp</c> at most ten minutes ahead, and a <c>jti</c> never seen before.
    /// </summary>
    PrivateKeyJwt,
}

/// <summary>A registered client. <see cref="ToString"/> never shows the secret.</summary>
/// <param name="ClientId">The client identifier.</param>
/// <param name="Secret">The client secret; required for <see cref="ClientAuthMethod.Basic"/> and <see cref="ClientAuthMethod.Post"/>, forbidden otherwise.</param>
/// <param name="RedirectUris">Redirect URIs, matched exactly (RFC 9700 §2.1): no prefix, port or trailing-slash leniency.</param>
/// <param name="AuthMethod">The one token-endpoint authentication method this client may use.</param>
public sealed record SandboxClient(string ClientId, string? Secret, IReadOnlyList<string> RedirectUris, ClientAuthMethod AuthMethod)
{
    /// <summary>
    /// The client's certificate for <see cref="ClientAuthMethod.PrivateKeyJwt"/>: its public key checks the client's
    /// assertions (the private key stays with the client). Required for that method, unused otherwise.
    /// </summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>
    /// Instead of <see cref="Certificate"/>, for <see cref="ClientAuthMethod.PrivateKeyJwt"/>: the client's public key
    /// (RSA or ECDSA P-256), as a client registered with a public JWK rather than a certificate.
    /// </summary>
    public AsymmetricAlgorithm? PublicKey { get; init; }

    /// <summary>
    /// The key id <see cref="PublicKey"/> is registered under: when set, an assertion must name it in its <c>kid</c>
    /// header, as a server holding several keys of a client asks. Unset, the <c>kid</c> is not checked.
    /// </summary>
    public string? PublicKeyId { get; init; }

    /// <summary>The RFC 8414 name of <see cref="AuthMethod"/>.</summary>
    public string AuthMethodName => AuthMethod switch
    {
        ClientAuthMethod.Basic => "client_secret_basic",
        ClientAuthMethod.Post => "client_secret_post",
        ClientAuthMethod.PrivateKeyJwt => "private_key_jwt",
        _ => "none",
    };

    /// <inheritdoc />
    public override string ToString() =>
        $"SandboxClient {{ ClientId = {ClientId}, AuthMethod = {AuthMethodName}, RedirectUris = [{string.Join(", ", RedirectUris)}] }}";

    /// <summary>
    /// Whether this client may be sent to <paramref name="uri"/>: the one rule for the authorize endpoint's
    /// <c>redirect_uri</c> and the end-session endpoint's <c>post_logout_redirect_uri</c>. An exact, ordinal match with a
    /// registered URI (RFC 9700 section 2.1); loopback URIs get no RFC 8252 port leniency either, so a callback on another
    /// port, host spelling (<c>localhost</c>) or path is refused as any other unregistered URI is.
    /// </summary>
    internal bool AllowsRedirectUri(string uri) => RedirectUris.Contains(uri, StringComparer.Ordinal);

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ClientId);
        ArgumentNullException.ThrowIfNull(RedirectUris);
        if (RedirectUris.Count == 0)
        {
            throw new ArgumentException($"Client '{ClientId}' needs at least one redirect URI.", nameof(RedirectUris));
        }

        foreach (var uri in RedirectUris)
        {
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Fragment.Length > 0)
            {
                throw new ArgumentException($"Client '{ClientId}' has an invalid redirect URI '{uri}': it must be absolute and have no fragment.", nameof(RedirectUris));
            }
        }

        var needsSecret = AuthMethod is ClientAuthMethod.Basic or ClientAuthMethod.Post;
        if (needsSecret && string.IsNullOrEmpty(Secret))
        {
            throw new ArgumentException($"Client '{ClientId}' uses {AuthMethodName} and needs a secret.", nameof(Secret));
        }

        if (!needsSecret && Secret is not null)
        {
            throw new ArgumentException($"Client '{ClientId}' uses {AuthMethodName} and must not have a secret.", nameof(Secret));
        }

        if (AuthMethod == ClientAuthMethod.PrivateKeyJwt && (Certificate is null) == (PublicKey is null))
        {
            throw new ArgumentException(
                $"Client '{ClientId}' uses private_key_jwt and needs exactly one of Certificate and PublicKey, the key its assertions are checked with.",
                nameof(Certificate));
        }
    }
}
