using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace O8Actors.IntegrationTests.OidcServer;

/// <summary>
/// One hand-made authorization request for the harness proof tests (the orchestrator builds its own): a fresh
/// <c>state</c>, a PKCE verifier and its S256 challenge, and the authorize URL.
/// </summary>
public sealed class AuthorizeRequest
{
    private AuthorizeRequest(Uri url, string state, string codeVerifier)
    {
        Url = url;
        State = state;
        CodeVerifier = codeVerifier;
    }

    /// <summary>The authorize URL to open.</summary>
    public Uri Url { get; }

    /// <summary>The request's <c>state</c>.</summary>
    public string State { get; }

    /// <summary>The PKCE verifier (a secret: never print).</summary>
    public string CodeVerifier { get; }

    /// <summary>Builds a request for <paramref name="client"/> at <paramref name="server"/>.</summary>
    /// <param name="server">The provider.</param>
    /// <param name="client">The client.</param>
    /// <param name="scope">Scopes, space separated.</param>
    /// <param name="pkce">Whether to send a PKCE challenge (false proves the provider requires it).</param>
    public static AuthorizeRequest Create(OidcProviderServer server, OidcClientRegistration client, string scope = "openid offline_access", bool pkce = true)
    {
        var state = Base64Url(RandomNumberGenerator.GetBytes(32));
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUri.ToString(),
            ["scope"] = scope,
            ["state"] = state,
            // offline_access is only honoured together with prompt=consent (OpenID Connect Core 11).
            ["prompt"] = "consent",
        };
        if (pkce)
        {
            query["code_challenge"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            query["code_challenge_method"] = "S256";
        }

        return new AuthorizeRequest(new Uri(QueryHelpers.AddQueryString(server.AuthorizationEndpoint.ToString(), query)), state, verifier);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <inheritdoc />
    public override string ToString() => $"AuthorizeRequest {{ Url = {Url.GetLeftPart(UriPartial.Path)} }}";
}
