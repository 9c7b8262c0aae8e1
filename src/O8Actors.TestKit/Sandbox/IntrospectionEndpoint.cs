using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>POST /introspect</c> (RFC 7662): tells an authenticated client whether one of its tokens is still active,
/// which makes revocation after a code or refresh-token replay observable over HTTP.
/// </summary>
internal sealed class IntrospectionEndpoint(SandboxState state)
{
    public async Task HandleAsync(HttpContext context)
    {
        if (await TokenManagementRequest.ReadAsync(context, state) is not { } request) return;
        var (client, token) = request;

        var now = state.Time.GetUtcNow();
        JsonObject body = new() { ["active"] = false };
        if (state.Tokens.FindAccess(token) is { } access && access.Family.ClientId == client.ClientId
            && state.Tokens.IsAccessTokenActive(token, now))
        {
            body = Describe(access.Family, access.Scope, access.Family.BoundKey is null ? "Bearer" : "DPoP");
            // RFC 9449 section 6.2: the key a bound token is confirmed by.
            if (access.Family.BoundKey is { } jkt) body["cnf"] = new JsonObject { ["jkt"] = jkt };
            body["iat"] = access.IssuedAt.ToUnixTimeSeconds();
            body["exp"] = access.ExpiresAt.ToUnixTimeSeconds();
            // RFC 8707: the API an audience-restricted token is for.
            if (access.Audience is { } audience) body["aud"] = audience;
        }
        else if (state.Tokens.FindRefresh(token) is { } refresh && refresh.Family.ClientId == client.ClientId
                 && state.Tokens.IsRefreshTokenActive(token, now))
        {
            // A refresh token holds the whole grant, whatever a refresh narrowed its access tokens to.
            body = Describe(refresh.Family, refresh.Family.Scope, "refresh_token");
            body["iat"] = refresh.IssuedAt.ToUnixTimeSeconds();
            if (refresh.ExpiresAt is { } expiresAt) body["exp"] = expiresAt.ToUnixTimeSeconds();
        }

        await SandboxHttp.WriteJsonAsync(context, 200, body);
    }

    private JsonObject Describe(TokenFamily family, string scope, string tokenType) => new()
    {
        ["active"] = true,
        ["client_id"] = family.ClientId,
        ["scope"] = scope,
        ["sub"] = family.Subject,
        ["iss"] = state.Endpoints!.IssuerString,
        ["token_type"] = tokenType,
    };
}
