using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>GET</c> or <c>POST /userinfo</c> (OpenID Connect Core section 5.3): a protected resource of the sandbox's own, so an
/// app can call an API with the tokens it got and see a refused token answered as a real resource server answers it
/// (RFC 6750 section 3): no token, 401 without an error code; a token that is unknown, expired or revoked, 401
/// <c>invalid_token</c>; a token without the <c>openid</c> scope, 403 <c>insufficient_scope</c>. The token comes in the
/// Authorization header (section 2.1); the claims are the token's subject.
/// </summary>
internal sealed class UserInfoEndpoint(SandboxState state)
{
    private const string BearerPrefix = "Bearer ";

    public async Task HandleAsync(HttpContext context)
    {
        state.Counters.UserInfoRequest();
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "GET, POST";
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            Challenge(context, StatusCodes.Status401Unauthorized, null);
            return;
        }

        var token = header[BearerPrefix.Length..].Trim();
        if (state.Tokens.FindAccess(token) is not { } access || !state.Tokens.IsAccessTokenActive(token, state.Time.GetUtcNow()))
        {
            state.Counters.Error("invalid_token");
            Challenge(context, StatusCodes.Status401Unauthorized, "error=\"invalid_token\", error_description=\"The access token is unknown, expired or revoked.\"");
            return;
        }

        if (!access.Family.Scope.Split(' ').Contains("openid", StringComparer.Ordinal))
        {
            state.Counters.Error("insufficient_scope");
            Challenge(context, StatusCodes.Status403Forbidden, "error=\"insufficient_scope\", scope=\"openid\"");
            return;
        }

        await SandboxHttp.WriteJsonAsync(context, 200, new JsonObject { ["sub"] = access.Family.Subject });
    }

    private static void Challenge(HttpContext context, int status, string? parameters)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.WWWAuthenticate = parameters is null ? "Bearer" : "Bearer " + parameters;
    }
}
