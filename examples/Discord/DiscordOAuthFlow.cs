using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace O8Actors.Examples.Discord;

/// <summary>
/// The original orchestr8 example, ported: subclass <see cref="OAuthFlow"/>, give the authorize URL and the code exchange.
/// </summary>
public sealed class DiscordOAuthFlow(string clientId, string clientSecret, string userScopes)
    : OAuthFlow(clientId, clientSecret, userScopes)
{
    /// <summary>Formatted Discord authorization URL for getting the code.</summary>
    protected override string AuthUrl =>
        "https://discord.com/api/oauth2/authorize" +
        $"?client_id={ClientId}&redirect_uri={QuotedRedirectUrl}" +
        $"&response_type=code&scope={Uri.EscapeDataString(UserScopes)}";

    /// <summary>Generates an access token from the authorization code.</summary>
    protected override async Task<string> GenerateAccessTokenAsync(string code, OAuthCodeContext context, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = RedirectUrl,
        };
        // Discord supports PKCE; sending the verifier binds the code to this login.
        if (context.CodeVerifier is not null) form["code_verifier"] = context.CodeVerifier;

        using var request = new HttpRequestMessage(HttpMethod.Post, "https://discord.com/api/oauth2/token")
        {
            Content = new FormUrlEncodedContent(form),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(ClientId)}:{Uri.EscapeDataString(ClientSecret)}")));

        using var response = await context.Http.SendAsync(request, cancellationToken);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        if (!response.IsSuccessStatusCode)
        {
            // An error body holds no token; quote only its error fields.
            var error = body.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
            throw new TokenExchangeException($"Failed to obtain access token: HTTP {(int)response.StatusCode} {error}", error);
        }

        return body.RootElement.GetProperty("access_token").GetString()!;
    }
}
