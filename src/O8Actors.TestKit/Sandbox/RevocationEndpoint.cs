using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>POST /revoke</c> (RFC 7009). A refresh token's revocation revokes its whole family, the access tokens issued with
/// it included (section 2.1: the server should); an access token's revokes only that token. An unknown or already
/// inactive token is answered 200 (section 2.2), a token of another client 400.
/// </summary>
internal sealed class RevocationEndpoint(SandboxState state)
{
    public async Task HandleAsync(HttpContext context)
    {
        if (await TokenManagementRequest.ReadAsync(context, state) is not { } request) return;
        var (client, token) = request;

        // The hint only speeds up the lookup (section 2.1); both kinds are searched either way.
        if (state.Tokens.FindRefresh(token) is { } refresh)
        {
            if (!await OwnedAsync(context, refresh.Family, client.ClientId)) return;
            if (state.Tokens.IsRefreshTokenActive(token, state.Time.GetUtcNow()))
            {
                refresh.Family.Revoke();
                state.Counters.Revoked();
            }
        }
        else if (state.Tokens.FindAccess(token) is { } access)
        {
            if (!await OwnedAsync(context, access.Family, client.ClientId)) return;
            if (state.Tokens.IsAccessTokenActive(token, state.Time.GetUtcNow()))
            {
                state.Tokens.RevokeAccess(token);
                state.Counters.Revoked();
            }
        }

        context.Response.StatusCode = 200;
    }

    private async Task<bool> OwnedAsync(HttpContext context, TokenFamily family, string clientId)
    {
        if (family.ClientId == clientId) return true;
        state.Counters.Error("invalid_request");
        await SandboxHttp.WriteErrorAsync(context, 400, "invalid_request", "The token was not issued to this client.");
        return false;
    }
}
