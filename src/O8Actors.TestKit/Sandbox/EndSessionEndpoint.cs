using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>GET</c> or form <c>POST /end-session</c> (OpenID Connect RP-Initiated Logout 1.0 section 2), while
/// <see cref="SandboxOptions.EndSession"/> is on. <c>id_token_hint</c>, when sent, must be an ID token this server signed
/// (its key, its <c>iss</c>; an expired one is accepted, as section 2 allows) and names the client by its <c>aud</c>;
/// <c>client_id</c>, when sent too, must be the same client. A <c>post_logout_redirect_uri</c> needs a known client and
/// must pass that client's redirect URI rule (<see cref="SandboxClient.AllowsRedirectUri"/>, the authorize endpoint's):
/// the user agent is then sent there with <c>state</c>; without one it gets a "signed out" page. Every refusal is a 400
/// page and never a redirect, so the endpoint cannot be used as an open redirector; the pages never repeat a token.
/// The user is never asked to confirm (the sandbox's user always agrees); <c>ui_locales</c> and <c>logout_hint</c> are ignored.
/// </summary>
internal sealed class EndSessionEndpoint(SandboxState state)
{
    public async Task HandleAsync(HttpContext context)
    {
        if (!state.Options.EndSession)
        {
            // Played as a provider without RP-initiated logout: the path does not exist.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var request = context.Request;
        Dictionary<string, string> parameters;
        string? duplicate;
        if (HttpMethods.IsGet(request.Method))
        {
            parameters = SandboxHttp.Flatten(request.Query, out duplicate);
        }
        else if (HttpMethods.IsPost(request.Method))
        {
            // Section 2: a POST carries its parameters in the form alone.
            if (await state.Forms.TryReadAsync(context) is not var (form, formDuplicate))
            {
                await RejectAsync(context, 400, "invalid_request",
                    $"A POST to the end-session endpoint must be a form (application/x-www-form-urlencoded). {state.Forms.Unreadable}");
                return;
            }

            (parameters, duplicate) = (form, formDuplicate);
        }
        else
        {
            context.Response.Headers.Allow = "GET, POST";
            await RejectAsync(context, 405, "invalid_request", "The end-session endpoint accepts GET and POST only.");
            return;
        }

        if (duplicate is not null)
        {
            await RejectAsync(context, 400, "invalid_request", $"Parameter '{duplicate}' was sent more than once.");
            return;
        }

        var clientId = parameters.Get("client_id");
        string? subject = null;
        if (parameters.Get("id_token_hint") is { } hint)
        {
            if (CheckHint(hint, out subject, out var audience) is { } problem)
            {
                await RejectAsync(context, 400, "invalid_request", problem);
                return;
            }

            if (clientId is not null && clientId != audience)
            {
                // Section 2: the client_id must be the one the hint was issued to; otherwise one client could end, and
                // pick the way back from, another's session.
                await RejectAsync(context, 400, "invalid_request", "client_id is not the client the id_token_hint was issued to.");
                return;
            }

            clientId = audience;
        }

        SandboxClient? client = null;
        if (clientId is not null && (client = state.Clients.Find(clientId)) is null)
        {
            await RejectAsync(context, 400, "invalid_client", "Unknown client.");
            return;
        }

        var postLogoutRedirectUri = parameters.Get("post_logout_redirect_uri");
        if (postLogoutRedirectUri is not null)
        {
            if (client is null)
            {
                // Section 3: without the client there are no registered URIs to match against, so no redirect at all.
                await RejectAsync(context, 400, "invalid_request",
                    "post_logout_redirect_uri needs client_id or id_token_hint: the client whose registered URIs it must match.");
                return;
            }

            if (!client.AllowsRedirectUri(postLogoutRedirectUri))
            {
                await RejectAsync(context, 400, "invalid_redirect_uri",
                    "The post_logout_redirect_uri is not registered for this client (exact match required).");
                return;
            }
        }

        // Recorded before the answer is written: a test holding the response finds the session listed.
        state.EndedSessions.Enqueue(new SandboxEndedSession(client?.ClientId, subject,
            postLogoutRedirectUri is null ? null : new Uri(postLogoutRedirectUri)));
        state.Counters.SessionEnded();

        if (postLogoutRedirectUri is null)
        {
            await SandboxHttp.WritePageAsync(context, 200, "You are signed out", "<p>Your session at the sandbox has ended.</p>");
            return;
        }

        var location = parameters.Get("state") is { } clientState
            ? QueryHelpers.AddQueryString(postLogoutRedirectUri, "state", clientState)
            : postLogoutRedirectUri;
        // 303 after a POST, so the browser follows with a GET and does not repost the form to the client.
        context.Response.StatusCode = HttpMethods.IsPost(request.Method) ? StatusCodes.Status303SeeOther : StatusCodes.Status302Found;
        context.Response.Headers.Location = location;
    }

    /// <summary>Null when <paramref name="hint"/> is an ID token of this server's, else the reason (which never repeats the token).</summary>
    private string? CheckHint(string hint, out string? subject, out string? audience)
    {
        subject = null;
        audience = null;
        // The signature first, by this server's own key: nothing in a token signed by anyone else is believed.
        if (!state.Signer.Verify(hint))
        {
            return "The id_token_hint is not an ID token signed by this server.";
        }

        JsonWebToken token;
        try
        {
            token = new JsonWebToken(hint);
        }
        catch (ArgumentException)
        {
            return "The id_token_hint is not a JWT.";
        }

        // The same key signs logout tokens (typ logout+jwt): only an ID token, typed JWT, names a session to end.
        if (!string.Equals(token.Typ, "JWT", StringComparison.Ordinal))
        {
            return "The id_token_hint is not an ID token (its typ is not JWT).";
        }

        if (token.Issuer != state.Endpoints!.IssuerString)
        {
            return "The id_token_hint was not issued by this server.";
        }

        // exp is deliberately not checked: section 2 lets an expired hint through, the session it names being what counts.
        var audiences = token.Audiences.ToArray();
        if (audiences.Length != 1)
        {
            return "The id_token_hint must name exactly one client as its aud.";
        }

        audience = audiences[0];
        subject = string.IsNullOrEmpty(token.Subject) ? null : token.Subject;
        return null;
    }

    private Task RejectAsync(HttpContext context, int status, string error, string description)
    {
        state.Counters.Error(error);
        return SandboxHttp.WritePageAsync(context, status, "Logout request rejected",
            $"<p><strong>{SandboxHttp.Html(error)}</strong>: {SandboxHttp.Html(description)}</p>");
    }
}
