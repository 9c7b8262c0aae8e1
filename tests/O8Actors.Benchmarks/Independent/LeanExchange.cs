using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace O8Actors.Benchmarks.Independent;

/// <summary>
/// The least a correct login adds to the ceiling: one token request per callback, written by hand — the code, the
/// redirect URI and the PKCE verifier posted with <c>client_secret_basic</c> (or, for a public client, its
/// <c>client_id</c> in the form) on one shared <see cref="HttpClient"/>
/// (pooled connections), the JSON answer parsed and checked for access token, refresh token, scope and expiry. No
/// library, no actors, no ID-token or account handling: the <c>lean</c> sides measure what any app must spend in this
/// setting, so the O8 rows can be read as the library's cost above it.
/// </summary>
internal sealed class LeanExchange : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false });
    private readonly Uri _tokenEndpoint;
    private readonly string _redirectUri;
    private readonly string _verifier;
    private readonly AuthenticationHeaderValue? _basic;
    // A public client names itself in the form (RFC 6749 section 4.1.3); a confidential one in the Basic header only.
    private readonly KeyValuePair<string, string>[] _clientIdField;
    private readonly LeanIdTokenCheck? _idTokens;

    /// <param name="clientSecret">The confidential client's secret (sent with Basic); null for a public client.</param>
    /// <param name="idTokens">With it (the lean login's OpenID Connect variant), the answer's ID token must pass it too.</param>
    public LeanExchange(Uri tokenEndpoint, string redirectUri, string verifier, string clientId, string? clientSecret, LeanIdTokenCheck? idTokens = null)
    {
        _idTokens = idTokens;
        _tokenEndpoint = tokenEndpoint;
        _redirectUri = redirectUri;
        _verifier = verifier;
        _clientIdField = clientSecret is null ? [new("client_id", clientId)] : [];
        // RFC 6749 section 2.3.1: form-encode id and secret, then Base64 of "id:secret".
        _basic = clientSecret is null ? null : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(clientSecret)}")));
    }

    /// <summary>Exchanges <paramref name="code"/>; true when the answer carries every field the setting requires.</summary>
    /// <param name="nonce">The login's nonce, which its ID token must carry (checked only with an ID-token check).</param>
    public async Task<bool> ExchangeAsync(string code, string? nonce, CancellationToken cancellationToken)
    {
        KeyValuePair<string, string>[] form =
        [
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", _redirectUri),
            new("code_verifier", _verifier),
            .. _clientIdField,
        ];
        using var request = new HttpRequestMessage(HttpMethod.Post, _tokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = _basic;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode) return false;
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        var root = json.RootElement;
        return root.TryGetProperty("access_token", out var access) && access.GetString() is { Length: > 0 }
            && root.TryGetProperty("refresh_token", out var refresh) && refresh.GetString() is { Length: > 0 }
            && root.TryGetProperty("scope", out var scope) && scope.ValueKind == JsonValueKind.String
            && root.TryGetProperty("expires_in", out var expires) && expires.TryGetInt32(out var seconds) && seconds > 0
            && (_idTokens is null || (root.TryGetProperty("id_token", out var idToken) && idToken.GetString() is { } jwt
                && nonce is not null && _idTokens.Valid(jwt, nonce)));
    }

    public void Dispose()
    {
        _http.Dispose();
        _idTokens?.Dispose();
    }
}
