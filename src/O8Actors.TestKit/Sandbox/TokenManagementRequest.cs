using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// The common front of the token-management endpoints (introspection, RFC 7662; revocation, RFC 7009): a POSTed form,
/// an authenticated client and a <c>token</c> parameter, no parameter sent twice. A request that lacks one of them is
/// answered here.
/// </summary>
internal static class TokenManagementRequest
{
    /// <summary>The authenticated client and the token, or null once the error has been written.</summary>
    public static async Task<(SandboxClient Client, string Token)?> ReadAsync(HttpContext context, SandboxState state)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || await state.Forms.TryReadAsync(context) is not var (form, duplicate))
        {
            await SandboxHttp.WriteErrorAsync(context, 400, "invalid_request", $"POST a form with the token. {state.Forms.Unreadable}");
            return null;
        }

        // RFC 6749 section 3.2 (and 7662, 7009 after it): a parameter sent twice is refused, so no value is picked for the client.
        if (duplicate is not null)
        {
            state.Counters.Error("invalid_request");
            await SandboxHttp.WriteErrorAsync(context, 400, "invalid_request", $"Parameter '{duplicate}' was sent more than once.");
            return null;
        }

        var auth = ClientAuthenticator.Authenticate(context.Request, form, state);
        if (auth.Client is null)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"sandbox\"";
            state.Counters.Error("invalid_client");
            await SandboxHttp.WriteErrorAsync(context, 401, "invalid_client", auth.Failure!);
            return null;
        }

        var token = form.Get("token");
        if (string.IsNullOrEmpty(token))
        {
            await SandboxHttp.WriteErrorAsync(context, 400, "invalid_request", "token is missing.");
            return null;
        }

        return (auth.Client, token);
    }
}
