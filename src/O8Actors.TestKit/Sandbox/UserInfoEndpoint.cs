using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>GET</c> or <c>POST /userinfo</c> (OpenID Connect Core section 5.3): a protected resource of the sandbox's own, so an
/// app can call an API with the tokens it got and see a refused token answered as a real resource server answers it
/// (RFC 6750 section 3): no token, 401 without an error code; a token that is unknown, expired or revoked, 401
/// <c>invalid_token</c>; a token without the <c>openid</c> scope, 403 <c>insufficient_scope</c>. The token comes in the
/// Authorization header (section 2.1); the claims are the token's subject. With DPoP on, a bound token is taken only as
/// <c>Authorization: DPoP</c> with a proof from its key carrying its hash (RFC 9449 section 7): sent as a bearer token, or
/// with a bad, replayed or other key's proof, it is refused 401 with a <c>DPoP</c> challenge.
/// </summary>
internal sealed class UserInfoEndpoint(SandboxState state)
{
    private const string BearerPrefix = "Bearer ";
    private const string DpopPrefix = "DPoP ";

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
        var dpop = state.Dpop.Enabled && header.StartsWith(DpopPrefix, StringComparison.OrdinalIgnoreCase);
        if (!dpop && !header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            Challenge(context, StatusCodes.Status401Unauthorized, null);
            return;
        }

        var token = header[(dpop ? DpopPrefix : BearerPrefix).Length..].Trim();
        string? proofKey = null;
        if (dpop)
        {
            // RFC 9449 section 7.1: a bound token comes with a proof for this request that carries its hash.
            var now = state.Time.GetUtcNow();
            state.Dpop.OfferNonce(context.Response, now);
            var proof = state.Dpop.Check(context.Request, state.Endpoints!.UserInfo, token, now);
            if (proof.Error is not null)
            {
                state.Counters.Error(proof.Error);
                DpopChallenge(context, proof.Error, proof.Description!);
                return;
            }

            proofKey = proof.Thumbprint;
        }

        if (state.Tokens.FindAccess(token) is not { } access || !state.Tokens.IsAccessTokenActive(token, state.Time.GetUtcNow()))
        {
            state.Counters.Error("invalid_token");
            const string unknown = "The access token is unknown, expired or revoked.";
            if (dpop) DpopChallenge(context, "invalid_token", unknown);
            else Challenge(context, StatusCodes.Status401Unauthorized, $"error=\"invalid_token\", error_description=\"{unknown}\"");
            return;
        }

        if (!string.Equals(access.Family.BoundKey, proofKey, StringComparison.Ordinal))
        {
            // A bound token sent as a bearer (a thief without the key), or with another key's proof; or a bearer token
            // dressed as DPoP (section 7.2).
            state.Counters.Error("invalid_token");
            if (access.Family.BoundKey is null) Challenge(context, StatusCodes.Status401Unauthorized, "error=\"invalid_token\", error_description=\"A bearer token is not DPoP-bound.\"");
            else DpopChallenge(context, "invalid_token", "The access token is DPoP-bound: send it with a proof from its key.");
            return;
        }

        if (access.Audience is { } audience)
        {
            // Audience restriction (RFC 8707, RFC 9700 section 2.3): a token for an API is not for this endpoint.
            state.Counters.Error("invalid_token");
            Challenge(context, StatusCodes.Status401Unauthorized, $"error=\"invalid_token\", error_description=\"The access token is for {audience}, not for userinfo.\"");
            return;
        }

        if (!access.Scope.Split(' ').Contains("openid", StringComparer.Ordinal))
        {
            state.Counters.Error("insufficient_scope");
            Challenge(context, StatusCodes.Status403Forbidden, "error=\"insufficient_scope\", scope=\"openid\"");
            return;
        }

        await SandboxHttp.WriteJsonAsync(context, 200, new JsonObject { ["sub"] = access.Family.Subject });
    }

    private static void DpopChallenge(HttpContext context, string error, string description)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = $"DPoP error=\"{error}\", error_description=\"{description}\", algs=\"ES256\"";
    }

    private static void Challenge(HttpContext context, int status, string? parameters)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.WWWAuthenticate = parameters is null ? "Bearer" : "Bearer " + parameters;
    }
}
