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
/// only its <c>client_id</c>. One never redeemed is forgotten once it has expired (<see cref="SandboxState.PushedRequests"/>).
/// </summary>
internal sealed class PushedAuthorizationEndpoint(SandboxState state)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private const string Prefix = "urn:ietf:params:oauth:request_uri:";

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

        var parameters = form.Where(p => p.Key is not "client_secret")
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
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
        if (!state.PushedRequests.TryRemove(requestUri, state.Time.GetUtcNow(), out var pushed))
        {
            problem = "The request_uri is unknown, has expired (its expires_in has passed) or was already used.";
            return null;
        }

        if (!string.Equals(pushed.ClientId, clientId, StringComparison.Ordinal))
        {
            problem = "The request_uri was pushed by another client.";
            return null;
        }

        return pushed.Parameters;
    }

    private Task ErrorAsync(HttpContext context, int status, string error, string description) =>
        ClientFormRequest.ErrorAsync(context, state, status, error, description);
}
