using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// The common front of the endpoints a client calls with its credentials and a form (device authorization, RFC 8628;
/// pushed authorization requests, RFC 9126): a form POST, no parameter twice, an authenticated client. A request that
/// fails one of them is answered (and counted) here.
/// </summary>
internal static class ClientFormRequest
{
    /// <summary>The authenticated client and the form, or null once the error has been written.</summary>
    /// <param name="context">The request.</param>
    /// <param name="state">The sandbox.</param>
    /// <param name="endpoint">The endpoint's name, for the error text.</param>
    public static async Task<(SandboxClient Client, Dictionary<string, string> Form)?> ReadAsync(HttpContext context, SandboxState state, string endpoint)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || !SandboxForm.IsUrlEncoded(context.Request))
        {
            await ErrorAsync(context, state, 400, "invalid_request", $"The {endpoint} accepts a form POST only.");
            return null;
        }

        if (await state.Forms.TryReadAsync(context) is not var (form, duplicate))
        {
            await ErrorAsync(context, state, 400, "invalid_request", state.Forms.Unreadable);
            return null;
        }

        if (duplicate is not null)
        {
            await ErrorAsync(context, state, 400, "invalid_request", $"Parameter '{duplicate}' was sent more than once.");
            return null;
        }

        var auth = ClientAuthenticator.Authenticate(context.Request, form, state);
        if (auth.Client is null)
        {
            // RFC 6749 section 5.2: a 401 names the scheme the client may authenticate with, as the token endpoint's does.
            if (auth.Error == "invalid_client") context.Response.Headers.WWWAuthenticate = "Basic realm=\"sandbox\"";
            await ErrorAsync(context, state, auth.Error == "invalid_client" ? 401 : 400, auth.Error!, auth.Failure!);
            return null;
        }

        return (auth.Client, form);
    }

    /// <summary>
    /// The form without the client's credentials (<c>client_secret</c>, <c>client_assertion</c>,
    /// <c>client_assertion_type</c>): what the sandbox records and hands to a test, which must hold no secret.
    /// </summary>
    public static Dictionary<string, string> WithoutCredentials(IReadOnlyDictionary<string, string> form) =>
        form.Where(p => p.Key is not ("client_secret" or "client_assertion" or "client_assertion_type"))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>Writes an OAuth error response and counts it.</summary>
    public static Task ErrorAsync(HttpContext context, SandboxState state, int status, string error, string description)
    {
        state.Counters.Error(error);
        return SandboxHttp.WriteErrorAsync(context, status, error, description);
    }
}
