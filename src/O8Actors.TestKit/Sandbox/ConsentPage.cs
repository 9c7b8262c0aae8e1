using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// The consent page for a human with a real browser: a plain HTML page whose Approve and Deny buttons POST back to
/// <c>/authorize/consent</c> with a single-use consent id, answerable for <see cref="SandboxOptions.ConsentLifetime"/>.
/// </summary>
internal static class ConsentPage
{
    public static Task WriteAsync(HttpContext context, SandboxState state, AuthorizeRequestInfo request)
    {
        var consentId = SandboxHttp.NewSecret();
        var now = state.Time.GetUtcNow();
        // TimeSpan.MaxValue reads as "never expires": saturate rather than overflow into a 500.
        var lifetime = state.Options.ConsentLifetime;
        var expiresAt = lifetime < DateTimeOffset.MaxValue - now ? now + lifetime : DateTimeOffset.MaxValue;
        state.PendingConsents.TryAdd(consentId, request, expiresAt, now);
        var action = SandboxHttp.Html(SandboxEndpoints.ConsentPath);
        var id = SandboxHttp.Html(consentId);
        var scopes = request.Scopes.Count == 0 ? "(no scopes)" : string.Join(", ", request.Scopes);
        var body =
            $"<p>Client <strong>{SandboxHttp.Html(request.ClientId)}</strong> asks for: {SandboxHttp.Html(scopes)}.</p>" +
            $"<p>Signing in as <strong>{SandboxHttp.Html(request.LoginHint ?? "sandbox-user")}</strong>.</p>" +
            $"<form method=\"post\" action=\"{action}\" style=\"display:inline\"><input type=\"hidden\" name=\"consent_id\" value=\"{id}\">" +
            "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button></form> " +
            $"<form method=\"post\" action=\"{action}\" style=\"display:inline\"><input type=\"hidden\" name=\"consent_id\" value=\"{id}\">" +
            "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>";
        return SandboxHttp.WritePageAsync(context, 200, "O8Actors sandbox: approve this login?", body, new Uri(request.RedirectUri));
    }

    public static async Task HandlePostAsync(HttpContext context, SandboxState state, AuthorizeEndpoint authorize)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || await state.Forms.TryReadAsync(context) is not var (form, _))
        {
            await SandboxHttp.WritePageAsync(context, 400, "Bad consent request", $"<p>POST the consent form. {SandboxHttp.Html(state.Forms.Unreadable)}</p>");
            return;
        }

        var consentId = form.Get("consent_id");
        if (consentId is null || !state.PendingConsents.TryRemove(consentId, state.Time.GetUtcNow(), out var request))
        {
            state.Counters.Error("invalid_consent");
            await SandboxHttp.WritePageAsync(context, 400, "Unknown consent",
                "<p>This consent was already answered, was left unanswered too long (it expired) or never existed. Start the login again.</p>");
            return;
        }

        var decision = form.Get("decision") == "approve"
            ? SandboxDecision.Approve()
            : SandboxDecision.Deny("The user pressed Deny on the sandbox consent page.");
        await authorize.DecideAsync(context, request, decision);
    }
}
