using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace O8Actors.Examples.Discord;

/// <summary>
/// The original orchestr8 example, ported: subclass <see cref="OAuthFlow"/>, give the authorize URL and the code exchange.
/// Beyond the original, it keeps its account: <see cref="CacheName"/> names it across runs, the exchange returns the
/// whole token response (expiry and refresh token), and <see cref="RefreshTokensAsync"/> renews it silently.
/// </summary>
public sealed class DiscordOAuthFlow(string clientId, string clientSecret, string userScopes)
    : OAuthFlow(clientId, clientSecret, userScopes)
{
    private const string TokenEndpoint = "https://discord.com/api/oauth2/token";

    /// <summary>Formatted Discord authorization URL for getting the code.</summary>
    protected override string AuthUrl =>
        "https://discord.com/api/oauth2/authorize" +
        $"?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}" +
        $"&response_type=code&scope={Uri.EscapeDataString(UserScopes)}";

    /// <summary>The account survives the run: the next run finds it in the encrypted token store.</summary>
    protected override string CacheName => "discord";

    /// <summary>Generates an access token from the authorization code (the original's method).</summary>
    protected override async Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken) =>
        (await GenerateTokensAsync(code, context, cancellationToken)).AccessToken;

    /// <summary>The whole token response, so the cache knows when the token expires and can refresh it.</summary>
    protected override Task<TokenSet> GenerateTokensAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = RedirectUrl,
        };
        // Discord supports PKCE; sending the verifier binds the code to this login.
        if (context.CodeVerifier is not null) form["code_verifier"] = context.CodeVerifier;
        return RequestTokensAsync(form, context.Http, cancellationToken);
    }

    /// <summary>Renews the access token with the refresh token (Discord rotates it).</summary>
    protected override Task<TokenSet> RefreshTokensAsync(string refreshToken, OAuthCodeContext context, CancellationToken cancellationToken) =>
        RequestTokensAsync(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }, context.Http, cancellationToken);

    private async Task<TokenSet> RequestTokensAsync(Dictionary<string, string> form, HttpClient http, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(ClientId)}:{Uri.EscapeDataString(ClientSecret)}")));

        using var response = await http.SendAsync(request, cancellationToken);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var root = body.RootElement;
        if (!response.IsSuccessStatusCode)
        {
            // An error body holds no token; quote only its error field (invalid_grant makes the cache ask for a login).
            var error = root.TryGetProperty("error", out var e) ? e.GetString() : null;
            throw new TokenExchangeException($"Failed to obtain access token: HTTP {(int)response.StatusCode} {error}", error);
        }

        return new TokenSet(
            root.GetProperty("access_token").GetString()!,
            root.TryGetProperty("token_type", out var type) ? type.GetString() ?? "Bearer" : "Bearer",
            root.TryGetProperty("expires_in", out var expires) ? DateTimeOffset.UtcNow.AddSeconds(expires.GetDouble()) : null,
            root.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString() : form.GetValueOrDefault("refresh_token"),
            root.TryGetProperty("scope", out var scope) ? scope.GetString() : null);
    }
}
