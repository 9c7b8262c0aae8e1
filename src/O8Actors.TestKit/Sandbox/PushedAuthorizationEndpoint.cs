using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>Whether the sandbox takes pushed authorization requests (RFC 9126).</summary>
public enum SandboxPushedAuthorization
{
    /// <summary>No PAR endpoint is advertised (the default): authorize requests carry their parameters.</summary>
    Off,

    /// <summary><c>/par</c> is advertised and used when a client pushes; plain authorize requests work too.</summary>
    Optional,

    /// <summary><c>/par</c> is advertised with <c>require_pushed_authorization_requests</c>: a plain authorize request is refused.</summary>
    Required,
}

/// <summary>
/// <c>POST /par</c> (RFC 9126 section 2): the client pushes its authorize parameters with its client authentication and
/// gets a single-use <c>request_uri</c>, valid for 60 seconds (its <c>expires_in</c>), to send to <c>/authorize</c> with
/// only its <c>client_id</c>. The push is checked as the authorize request it stands for (RFC 9126 section 2.1): one
/// <c>/authorize</c> would refuse is answered here with a JSON 400 and nothing is stored. One never redeemed is forgotten
/// once it has expired (<see cref="SandboxState.PushedRequests"/>).
/// </summary>
internal sealed class PushedAuthorizationEndpoint(SandboxState state)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private const string Prefix = "urn:ietf:params:oauth:request_uri:";
    private const string Unknown = "The request_uri is unknown, has expired (its expires_in has passed) or was already used.";

    public async Task HandleAsync(HttpContext context)
    {
        if (state.Options.PushedAuthorization == SandboxPushedAuthorization.Off)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (await ClientFormRequest.ReadAsync(context, state, "PAR endpoint") is not { } read) return;
        var (client, form) = read;

        if (form.ContainsKey("request_uri"))
        {
            await ErrorAsync(context, 400, "invalid_request", "request_uri must not be pushed (RFC 9126 section 2.1).");
            return;
        }

        if (form.Get("redirect_uri") is not { } redirectUri || !client.AllowsRedirectUri(redirectUri))
        {
            // Exact string match, RFC 9700 section 2.1, as at /authorize. RFC 6749 gives no error code for a bad redirect
            // URI (it is never redirected to); RFC 9126 section 2.3 names invalid_request the default for it at /par.
            await ErrorAsync(context, 400, "invalid_request", "The redirect_uri is missing or not registered for this client (exact match required).");
            return;
        }

        // ClientFormRequest has already refused a parameter sent twice.
        if (AuthorizeRequestRules.Check(form, duplicate: null, state.Options, out var description) is { } error)
        {
            await ErrorAsync(context, 400, error, description);
            return;
        }

        var parameters = ClientFormRequest.WithoutCredentials(form);
        parameters["client_id"] = client.ClientId;
        var requestUri = Prefix + SandboxHttp.NewSecret();
        var now = state.Time.GetUtcNow();
        state.PushedRequests.TryAdd(requestUri, (client.ClientId, parameters), now + Lifetime, now);
        state.Counters.PushedRequest();
        await SandboxHttp.WriteJsonAsync(context, 201, new JsonObject
        {
            ["request_uri"] = requestUri,
            ["expires_in"] = (long)Lifetime.TotalSeconds,
        });
    }

    /// <summary>
    /// The pushed parameters for an authorize request that names <c>request_uri</c> (used once), or null with the reason;
    /// the client must be the one that pushed them.
    /// </summary>
    public Dictionary<string, string>? Redeem(string requestUri, string? clientId, out string? problem)
    {
        problem = null;
        var now = state.Time.GetUtcNow();
        if (!state.PushedRequests.TryGet(requestUri, now, out var pushed))
        {
            problem = Unknown;
            return null;
        }

        // Compared before it is spent: another client (or none) presenting it must not burn the rightful login's request,
        // as the token endpoint refuses another client's code without spending it.
        if (!string.Equals(pushed.ClientId, clientId, StringComparison.Ordinal))
        {
            problem = "The request_uri was pushed by another client.";
            return null;
        }

        if (!state.PushedRequests.TryRemove(requestUri, now, out _))
        {
            problem = Unknown; // redeemed by a concurrent request in between
            return null;
        }

        return pushed.Parameters;
    }

    private Task ErrorAsync(HttpContext context, int status, string error, string description) =>
        ClientFormRequest.ErrorAsync(context, state, status, error, description);
}
