using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>GET /authorize</c> (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 9207). Problems with the client or the redirect URI get a
/// 400 page and are never redirected (RFC 6749 §4.1.2.1); every other problem is redirected with <c>error</c>,
/// <c>state</c> (when one was sent) and <c>iss</c>. Only <c>response_mode=query</c> is served; with <c>prompt=none</c> a
/// decision that needs the user (consent page, never answering) is answered with <c>consent_required</c> or
/// <c>interaction_required</c> (OpenID Connect Core 1.0 section 3.1.2.1).
/// </summary>
internal sealed class AuthorizeEndpoint(SandboxState state, PushedAuthorizationEndpoint pushed)
{
    public async Task HandleAsync(HttpContext context)
    {
        state.Counters.AuthorizeRequest();
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET";
            await RejectPageAsync(context, 405, "invalid_request", "The authorize endpoint accepts GET only.");
            return;
        }

        var query = SandboxHttp.Flatten(context.Request.Query, out var duplicate);
        // RFC 9126 section 4: a pushed request's parameters come from the push, named by request_uri.
        if (state.Options.PushedAuthorization != SandboxPushedAuthorization.Off && query.Get("request_uri") is { } requestUri)
        {
            if (pushed.Redeem(requestUri, query.Get("client_id"), out var problem) is not { } parameters)
            {
                await RejectPageAsync(context, 400, "invalid_request_uri", problem!);
                return;
            }

            query = parameters;
        }
        else if (state.Options.PushedAuthorization == SandboxPushedAuthorization.Required)
        {
            await RejectPageAsync(context, 400, "invalid_request", "This server requires pushed authorization requests (RFC 9126): push to /par first.");
            return;
        }

        var client = state.Clients.Find(query.Get("client_id"));
        if (client is null || duplicate == "client_id")
        {
            await RejectPageAsync(context, 400, "invalid_client", "Unknown or missing client_id.");
            return;
        }

        var redirectUri = query.Get("redirect_uri");
        if (redirectUri is null || duplicate == "redirect_uri" || !client.AllowsRedirectUri(redirectUri))
        {
            // Exact string match, RFC 9700 §2.1: a mismatch must never be redirected anywhere.
            await RejectPageAsync(context, 400, "invalid_redirect_uri", "The redirect_uri is missing or not registered for this client (exact match required).");
            return;
        }

        var clientState = query.Get("state");
        string? error = AuthorizeRequestRules.Check(query, duplicate, state.Options, out var description);
        if (error is not null)
        {
            state.Counters.Error(error);
            context.Response.Redirect(ErrorRedirect(redirectUri, error, description, clientState));
            return;
        }

        var request = new AuthorizeRequestInfo(
            client.ClientId,
            redirectUri,
            clientState!,
            query.Get("scope") ?? string.Empty,
            query.Get("code_challenge"),
            query.Get("nonce"),
            query.Get("login_hint"),
            query);

        var decision = state.Options.Decide(request);
        if (PromptsNone(query) && InteractionError(decision) is { } interaction)
        {
            // OpenID Connect Core 1.0 section 3.1.2.1: prompt=none shows no page, so what would need the user is an error.
            state.Counters.Error(interaction.Error);
            context.Response.Redirect(ErrorRedirect(redirectUri, interaction.Error, interaction.Description, clientState));
            return;
        }

        await DecideAsync(context, request, decision);
    }

    private static bool PromptsNone(Dictionary<string, string> query) =>
        query.Get("prompt")?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("none", StringComparer.Ordinal) == true;

    /// <summary>The error a prompt=none request gets instead of <paramref name="decision"/>, when carrying it out needs the user.</summary>
    private static (string Error, string Description)? InteractionError(SandboxDecision decision) => decision.Kind switch
    {
        SandboxDecisionKind.ConsentPage => ("consent_required", "prompt=none, but the user must consent."),
        // A server that would never answer is one waiting on the user: with no page to show it must answer now.
        SandboxDecisionKind.NeverAnswer => ("interaction_required", "prompt=none, but the user must interact."),
        _ => null,
    };

    /// <summary>Carries out a decision; also used by the consent page's buttons.</summary>
    public async Task DecideAsync(HttpContext context, AuthorizeRequestInfo request, SandboxDecision decision)
    {
        switch (decision.Kind)
        {
            case SandboxDecisionKind.Approve:
                var subject = decision.Subject ?? request.LoginHint ?? "sandbox-user";
                var code = state.Codes.Issue(request, subject, state.Time.GetUtcNow());
                state.Counters.CodeIssued();
                var parameters = new Dictionary<string, string?> { ["code"] = code, ["state"] = request.State };
                if (state.Options.SendIssuerParameter) parameters["iss"] = state.Endpoints!.IssuerString;
                context.Response.Redirect(QueryHelpers.AddQueryString(request.RedirectUri, parameters));
                return;

            case SandboxDecisionKind.Deny:
                state.Counters.Denied();
                context.Response.Redirect(ErrorRedirect(request.RedirectUri, decision.Error ?? "access_denied", decision.ErrorDescription, request.State));
                return;

            case SandboxDecisionKind.ConsentPage:
                state.Counters.ConsentPageShown();
                await ConsentPage.WriteAsync(context, state, request);
                return;

            default:
                await HangAsync(context);
                return;
        }
    }

    private async Task HangAsync(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, state.Stopping);
        try
        {
            // The limit's timer exists before the request is counted as held: a test that waits for the count and
            // then advances a fake clock must find the timer already there.
            var limit = Task.Delay(state.Options.NeverAnswerLimit, state.Time, linked.Token);
            state.Counters.NeverAnswer();
            await limit;
        }
        catch (OperationCanceledException)
        {
            // The browser gave up or the server is stopping: drop the connection rather than send an empty 200.
            context.Abort();
            return;
        }

        await SandboxHttp.WritePageAsync(context, 504, "The sandbox never answered", "<p>This login was set to never answer.</p>");
    }

    private string ErrorRedirect(string redirectUri, string error, string? description, string? clientState)
    {
        var parameters = new Dictionary<string, string?> { ["error"] = error };
        if (description is not null)
        {
            parameters["error_description"] = description;
        }

        if (clientState is not null)
        {
            parameters["state"] = clientState;
        }

        if (state.Options.SendIssuerParameter) parameters["iss"] = state.Endpoints!.IssuerString;
        return QueryHelpers.AddQueryString(redirectUri, parameters);
    }

    private Task RejectPageAsync(HttpContext context, int status, string error, string description)
    {
        state.Counters.Error(error);
        return SandboxHttp.WritePageAsync(context, status, "Authorization request rejected",
            $"<p><strong>{SandboxHttp.Html(error)}</strong>: {SandboxHttp.Html(description)}</p>");
    }
}
